
const REDACTED = "[redacted]";

/**
 * A credential (the app's private key) that can travel inside settings without ending up in
 * output by accident: printing, string interpolation, JSON and `inspect` all show
 * `[redacted]`; only `reveal()` gives the value, at the one place that signs with it.
 */
export class Secret {
  readonly #value: string;

  constructor(value: string) {
    this.#value = value;
  }

  /** The secret value itself. */
  reveal(): string {
    return this.#value;
  }

  toString(): string {
    return REDACTED;
  }

  toJSON(): string {
    return REDACTED;
  }

  // node:util's inspect.custom, without loading node:util at start-up.
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return REDACTED;
  }
}
