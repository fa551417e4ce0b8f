// MlflowClient: the project's only way to MLflow. One object per tracking server, its services
// as fields (experiments, runs, metrics, artifacts, models, versions, loggedModels), all sharing
// one Http (auth, retries, concurrency limit).
import { Artifacts } from "./artifacts.js";
import { Http, type MlflowClientOptions, resolveOptions } from "./http.js";
import { LoggedModels, ModelVersions, RegisteredModels } from "./registry.js";
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
  private readonly http: Http;

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
