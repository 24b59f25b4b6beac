/**
 * Turns a child's output stream into whole lines. A line is an event in Lambda's log model, so
 * partial writes are held until their newline (or until the invocation ends, see `flush`).
 */
export class OutputLines {
  private partial = '';

  constructor(private readonly emit: (line: string) => void) {}

  push(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.emit(line);
  }

  /** Emits what is left without a newline (a `process.stdout.write('x')` at the end of a run). */
  flush(): void {
    if (this.partial === '') return;
    const line = this.partial;
    this.partial = '';
    this.emit(line);
  }
}
