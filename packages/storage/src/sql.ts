/**
 * SQL fragments that carry their query parameters, so that a query composed from pieces (a KPI's
 * expressions inside the engine's aggregation, a custom KPI's field paths) never concatenates a
 * value into its text. `sql` is a tagged template: interpolate fragments (`sql`, `param`,
 * `identifier`, `join`); anything else is refused at compile time.
 */
export interface Sql {
  readonly text: string;
  readonly params: Readonly<Record<string, unknown>>;
}

let counter = 0;

/** A value bound as a query parameter of the given ClickHouse type, under a name of its own. */
export function param(value: unknown, type: string): Sql {
  const name = `p_${++counter}`;
  return { text: `{${name}:${type}}`, params: { [name]: value } };
}

/** A table or column name bound as an Identifier parameter. */
export const identifier = (name: string): Sql => param(name, 'Identifier');

export function sql(strings: TemplateStringsArray, ...parts: Sql[]): Sql {
  let text = strings[0]!;
  const params: Record<string, unknown> = {};
  parts.forEach((part, index) => {
    text += part.text + strings[index + 1]!;
    Object.assign(params, part.params);
  });
  return { text, params };
}

/** Fixed SQL text written in this code base (never input). */
export const raw = (text: string): Sql => ({ text, params: {} });

export function join(parts: readonly Sql[], separator: string): Sql {
  return { text: parts.map((part) => part.text).join(separator), params: Object.assign({}, ...parts.map((part) => part.params)) };
}
