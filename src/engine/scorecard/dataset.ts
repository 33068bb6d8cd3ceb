/**
 * A labelled table, column-major. Categorical columns hold level codes (indexes into `levels`) so
 * that binning and scoring only ever look at numbers; NaN is a missing value.
 */
export interface Dataset {
  names: string[];
  columns: Float64Array[];
  /** Per column: the category names for a categorical column, null for a numeric one. */
  levels: (string[] | null)[];
  /** 1 = bad (the event), 0 = good. */
  target: Uint8Array;
}

export function rowCount(data: Dataset): number {
  return data.target.length;
}

/** The rows at `indexes`, as a new data set. */
export function selectRows(data: Dataset, indexes: ArrayLike<number>): Dataset {
  const n = indexes.length;
  const pick = (source: Float64Array) => {
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) out[i] = source[indexes[i] as number] as number;
    return out;
  };
  const target = new Uint8Array(n);
  for (let i = 0; i < n; i++) target[i] = data.target[indexes[i] as number] as number;
  return { names: data.names, columns: data.columns.map(pick), levels: data.levels, target };
}
