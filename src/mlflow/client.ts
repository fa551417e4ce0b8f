// MlflowClient: the project's only way to MLflow. One object per tracking server, its services
// as fields (experiments, runs, metrics, artifacts, models, versions, loggedModels), all sharing
// one Http (auth, retries, concurrency limit).
import { Artifacts } from "./artifacts.js";
import { probeCapabilities, type ServerCapabilities } from "./capabilities.js";
import { EvaluationDatasets } from "./datasets.js";
import { Http, type MlflowClientOptions, resolveOptions } from "./http.js";
import { Inventory } from "./inventory.js";
import { Prompts } from "./prompts.js";
import { LoggedModels, ModelVersions, RegisteredModels } from "./registry.js";
import { Traces } from "./traces.js";
import { Experiments, Metrics, Runs } from "./tracking.js";

export class MlflowClient {
  readonly trackingUri: string;
  readonly experiments: Experiments;
  readonly runs: Runs;
  readonly metrics: Metrics;
  readonly artifacts: Artifacts;
  readonly models: RegisteredModels;
  readonly versions: ModelVersions;
  readonly loggedModels: LoggedModels;
  /** Counts of what an experiment holds beyond runs (traces, datasets, prompts, …). */
  readonly inventory: Inventory;
  /** MLflow 3 GenAI: traces (spans, assessments), prompts, evaluation datasets. */
  readonly traces: Traces;
  readonly prompts: Prompts;
  readonly evaluationDatasets: EvaluationDatasets;
  private readonly http: Http;
  private capabilitiesProbe: Promise<ServerCapabilities> | undefined;

  constructor(options: MlflowClientOptions = {}) {
    this.http = new Http(resolveOptions(options));
    this.trackingUri = this.http.options.trackingUri;
    this.experiments = new Experiments(this.http);
    this.runs = new Runs(this.http);
    this.metrics = new Metrics(this.http);
    this.artifacts = new Artifacts(this.http);
    this.models = new RegisteredModels(this.http);
    this.versions = new ModelVersions(this.http);
    this.loggedModels = new LoggedModels(this.http);
    this.inventory = new Inventory(this.http);
    this.traces = new Traces(this.http);
    this.prompts = new Prompts(this.models, this.versions);
    this.evaluationDatasets = new EvaluationDatasets(this.http);
  }

  /**
   * What the server supports (MLflow 2.x lacks logged models and the GenAI endpoints), asked once
   * per client; a failed probe (server down) is asked again next time.
   */
  capabilities(): Promise<ServerCapabilities> {
    if (!this.capabilitiesProbe) {
      this.capabilitiesProbe = probeCapabilities(this.http);
      this.capabilitiesProbe.catch(() => {
        this.capabilitiesProbe = undefined;
      });
    }
    return this.capabilitiesProbe;
  }

  /**
   * How many requests callers should offer at once to keep this client's limiter full: the most
   * it lets in flight (a fixed concurrency, or the adaptive limiter's upper bound).
   */
  get fanOut(): number {
    return this.http.limiter.ceiling;
  }

  /**
   * Requests sent so far (retries included); overload answers and failed connections (each is
   * retried), and those given up after all retries; the concurrency limit now.
   */
  traffic(): { sent: number; overloaded: number; gaveUp: number; limit: number } {
    return { ...this.http.stats, limit: this.http.limiter.limit };
  }

  /** True when GET /health answers 200. */
  async healthy(): Promise<boolean> {
    try {
      const response = await this.http.send("GET", "/health", { retry: false, timeoutMs: 5_000 });
      await response.body?.cancel();
      return true;
    } catch {
      return false;
    }
  }
}
