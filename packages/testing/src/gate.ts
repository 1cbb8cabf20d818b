/** A promise a test opens (or fails) when it chooses: to hold one side of a race at a known point. */
export interface Gate {
  readonly promise: Promise<void>;
  open(): void;
  fail(error: Error): void;
}

export function gate(): Gate {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const promise = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}
