// Fault injection state shared by the servers: a FIFO of one-shot chat faults plus persistent
// modes for the models endpoint and the OTLP receiver.
import type { ChatFault, ModelsMode, OtlpMode } from "./types.ts";

export class Faults {
  private readonly chatQueue: ChatFault[] = [];
  models: ModelsMode = "ok";
  otlp: OtlpMode = { mode: "ok" };

  /** Queue one-shot faults; each is consumed by the next chat request, in order. */
  pushChat(...faults: ChatFault[]): void {
    this.chatQueue.push(...faults);
  }

  /** @internal used by the frontend. */
  takeChat(): ChatFault | undefined {
    return this.chatQueue.shift();
  }

  get pendingChat(): number {
    return this.chatQueue.length;
  }

  setModels(mode: ModelsMode): void {
    this.models = mode;
  }

  setOtlp(mode: OtlpMode): void {
    this.otlp = mode;
  }

  /** Drop queued chat faults and return every mode to `ok`. */
  reset(): void {
    this.chatQueue.length = 0;
    this.models = "ok";
    this.otlp = { mode: "ok" };
  }
}

export function describeChatFault(f: ChatFault): string {
  switch (f.type) {
    case "status":
      return `status ${f.status}`;
    case "delay":
      return `delay ${f.ms}ms`;
    default:
      return f.type;
  }
}
