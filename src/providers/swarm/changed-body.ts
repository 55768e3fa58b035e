// A Docker answer compared with the last one as it arrives (RawDockerGet,
// DockerListReader): while the bytes match, only an offset is kept, so an
// unchanged answer is never concatenated, copied or kept; from the first
// difference on, what comes is kept.

export class ChangedBody {
  /** The body so far equals `previous`'s first `offset` bytes. */
  private same: boolean;
  private offset = 0;
  private readonly kept: Buffer[] = [];
  /** Bytes kept since the first difference. */
  keptBytes = 0;

  constructor(private readonly previous: Buffer | null) {
    this.same = previous !== null;
  }

  /** The answer is not one to compare (an error status): all of it is kept. Before any push. */
  unlike(): void {
    this.same = false;
  }

  /** `copy`: the chunk is a view its owner reuses, so a kept one is copied. */
  push(chunk: Buffer, copy: boolean): void {
    const previous = this.previous;
    if (this.same) {
      if (this.offset + chunk.length <= previous!.length && previous!.compare(chunk, 0, chunk.length, this.offset, this.offset + chunk.length) === 0) {
        this.offset += chunk.length;
        return;
      }
      this.same = false;
    }
    this.kept.push(copy ? Buffer.from(chunk) : chunk);
    this.keptBytes += chunk.length;
  }

  /** null when the body is byte for byte `previous`, else the body. */
  result(): Buffer | null {
    if (this.same && this.offset === this.previous!.length) return null;
    return this.previous === null ? Buffer.concat(this.kept) : Buffer.concat([this.previous.subarray(0, this.offset), ...this.kept]);
  }
}
