// The Jupyter wire side: tslab's ZmqServer (sockets, signing, the message loop) with the
// handlers arcuate needs in place of tslab's:
//  - execute: iopub `error` messages and error replies with ename/evalue/traceback, which
//    tslab never sends, and the execute_input broadcast;
//  - complete and inspect: answered asynchronously (the language's completion may ask a
//    server for names), with the `idle` status held back until the reply is out;
//  - comm_info: replied as comm_info_reply (tslab labels it complete_reply);
//  - kernel_info: names arcuate, with status ok and the TypeScript version that compiles cells.
import { createRequire } from "node:module";
import type { ArcuateKernel, CellIO, ExecuteRequest } from "./kernel.js";
import { packageVersion } from "./paths.js";
import { type JupyterHandlerImpl, jupyter, tslabTypeScript } from "./tslab.js";

const require = createRequire(import.meta.url);

/** The parts of tslab's (unexported) ZmqMessage that the handlers use. */
interface WireMessage {
  header: { msg_type: string };
  content: unknown;
  createReply(): WireMessage;
  signAndSend(key: string, socket: unknown): void;
}

/** tslab's version and arcuate's, for kernel_info. */
function versions(): { tslab: string; arcuate: string } {
  return { tslab: (require("tslab/package.json") as { version: string }).version, arcuate: packageVersion() };
}

export class ArcuateServer extends jupyter.ZmqServer {
  private readonly replying = new Map<WireMessage, Promise<void>>();

  constructor(
    private readonly kernel: ArcuateKernel,
    typescript: JupyterHandlerImpl,
    connectionFile: string,
  ) {
    super(typescript, connectionFile);
  }

  private send(parent: WireMessage, type: string, content: object, socket: unknown = this.iopub): void {
    const message = parent.createReply();
    message.header.msg_type = type;
    message.content = content;
    message.signAndSend(this.connInfo.key, socket);
  }

  override handleKernelInfo(socket: unknown, msg: WireMessage): void {
    const { tslab, arcuate } = versions();
    const stock = this.handler.handleKernel();
    this.send(
      msg,
      "kernel_info_reply",
      {
        status: "ok",
        ...stock,
        // tslab reports a fixed "3.7.2"; the TypeScript that compiles the cells is its own copy.
        language_info: { ...stock.language_info, version: tslabTypeScript().version },
        implementation: "arcuate",
        implementation_version: arcuate,
        banner: `arcuate ${arcuate}: TypeScript (tslab ${tslab}) with %arcuate statements; %arcuate? for help`,
      },
      socket,
    );
  }

  override async handleExecute(socket: unknown, msg: WireMessage): Promise<void> {
    const request = msg.content as ExecuteRequest;
    const io: CellIO = {
      stream: (name, text) => this.send(msg, "stream", { name, text }),
      display: (bundle, update) => this.send(msg, update ? "update_display_data" : "display_data", bundle),
      error: (content) => this.send(msg, "error", content),
      input: (code, count) => this.send(msg, "execute_input", { code, execution_count: count }),
    };
    const reply = await this.kernel.execute(request, io);
    this.send(msg, "execute_reply", reply, socket);
  }

  override handleComplete(socket: unknown, msg: WireMessage): void {
    const request = msg.content as { code: string; cursor_pos: number };
    this.replyLater(msg, socket, "complete_reply", this.kernel.complete(request));
  }

  override handleInspect(socket: unknown, msg: WireMessage): void {
    const request = msg.content as { code: string; cursor_pos: number; detail_level: 0 | 1 };
    this.replyLater(msg, socket, "inspect_reply", this.kernel.inspect(request));
  }

  override handleIsComplete(socket: unknown, msg: WireMessage): void {
    this.send(msg, "is_complete_reply", this.kernel.isComplete(msg.content as { code: string }), socket);
  }

  override handleCommInfoRequest(socket: unknown, msg: WireMessage): void {
    this.send(msg, "comm_info_reply", { status: "ok", comms: {} }, socket);
  }

  /** Holds the `idle` status of `parent` until its asynchronous reply has been sent. */
  override publishStatus(status: string, parent: WireMessage): void {
    const pending = status === "idle" ? this.replying.get(parent) : undefined;
    if (pending === undefined) {
      super.publishStatus(status, parent as never);
      return;
    }
    void pending.finally(() => {
      this.replying.delete(parent);
      super.publishStatus(status, parent as never);
    });
  }

  private replyLater(msg: WireMessage, socket: unknown, type: string, content: Promise<object>): void {
    const sent = content.then((body) => this.send(msg, type, body, socket));
    this.replying.set(
      msg,
      sent.catch(() => undefined),
    );
  }
}
