// A view over pi's registry that answers some members itself and passes every other one through to the registry,
// bound to it. Bound methods are made once per method, not on every access: a request reads the registry's
// methods on every attempt.
import type { RegistryLike } from "./start-target.ts";

export function registryView<R extends RegistryLike>(registry: R, overrides: Partial<RegistryLike>): R {
  const bound = new Map<PropertyKey, { method: unknown; bound: unknown }>();
  return new Proxy(registry, {
    get(target, property, receiver) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof RegistryLike];
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      const known = bound.get(property);
      if (known?.method === value) return known.bound;
      const method = value.bind(target);
      bound.set(property, { method: value, bound: method });
      return method;
    },
  });
}
