// A one-entry memo: recomputes only when one of its inputs is no longer the same value (===) as last time. Per-request
// code reads derived views (settings parsed from the config, budget audits, quota assessments) through one of these,
// so nothing is rebuilt while the config and the stores it depends on have not changed.
export function lastValue<Inputs extends readonly unknown[], Value>(
  compute: (...inputs: Inputs) => Value,
): (...inputs: Inputs) => Value {
  let last: { inputs: Inputs; value: Value } | undefined;
  return (...inputs) => {
    if (last && last.inputs.length === inputs.length && last.inputs.every((input, index) => input === inputs[index]))
      return last.value;
    const value = compute(...inputs);
    last = { inputs, value };
    return value;
  };
}
