// The error a call throws, checked to be of the expected class (the test fails if it returns).
import { expect } from 'vitest';

export function thrown<E extends Error>(cls: abstract new (...args: never[]) => E, f: () => unknown): E {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    return e as E;
  }
  throw new Error(`expected a ${cls.name}, but the call returned`);
}
