/**
 * Layer: sandbox.
 *
 * A first-come-first-served async lock: `run(fn)` waits for every earlier holder.
 */
export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn);
    this.#tail = result.then(() => undefined, () => undefined);
    return result;
  }
}
