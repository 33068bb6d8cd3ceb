import type { Bin } from "../engine/scorecard/binning.ts";
import type { ModelVersion } from "../services/modelRegistry.ts";

const binLabel = (bin: Bin): string => {
  switch (bin.kind) {
    case "range":
      return `[${bin.lower === Number.NEGATIVE_INFINITY ? "-inf" : bin.lower}, ${bin.upper === Number.POSITIVE_INFINITY ? "+inf" : bin.upper})`;
    case "special":
      return `special ${bin.value}`;
    case "missing":
      return "missing";
    case "categories":
      return bin.values.join(", ").slice(0, 40);
  }
};

/** The validation report as text: discrimination, calibration, the IV table and every bin's points. */
export function formatModelReport(
  model: Pick<
    ModelVersion,
    "version" | "state" | "author" | "approvedBy" | "scorecard" | "training" | "validation"
  >,
): string {
  const v = model.validation;
  const lines = [
    `model ${model.version} (${model.state}; author ${model.author}${model.approvedBy === null ? "" : `, approved by ${model.approvedBy}`})`,
    `trained on ${model.training.rows} rows (${model.training.bads} bad); ${model.training.converged ? "converged" : "DID NOT CONVERGE"} in ${model.training.iterations} iterations`,
    `validation on ${v.rows} held-out rows (${v.bads} bad): AUC ${v.auc.toFixed(4)}  KS ${v.ks.toFixed(4)}  Gini ${v.gini.toFixed(4)}`,
    "",
    "calibration by score decile:   score range        rows   predicted PD   observed bad rate",
    ...v.calibration.map(
      (c) =>
        `  ${c.fromScore.toFixed(0).padStart(6)} - ${c.toScore.toFixed(0).padEnd(6)}         ${String(c.rows).padStart(7)}   ${(c.predictedPd * 100).toFixed(2).padStart(8)}%   ${(c.observedBadRate * 100).toFixed(2).padStart(8)}%`,
    ),
    "",
    "information value:",
    ...[...model.training.features]
      .sort((a, b) => b.iv - a.iv)
      .map(
        (f) => `  ${f.feature.padEnd(40)} IV ${f.iv.toFixed(4)}  ${f.used ? "used" : `left out: ${f.note}`}`,
      ),
    "",
    `bins and points (base score ${model.scorecard.baseScore.toFixed(1)}):`,
  ];
  for (const f of model.scorecard.features) {
    lines.push(
      `  ${f.name} (${f.binning.type}${f.binning.trend === null ? "" : `, ${f.binning.trend}`}, coefficient ${f.coefficient.toFixed(4)})`,
    );
    f.binning.bins.forEach((b, i) => {
      lines.push(
        `    ${binLabel(b.bin).padEnd(42)} rows ${String(b.count).padStart(7)}  bad ${((b.bads / Math.max(1, b.count)) * 100).toFixed(1).padStart(5)}%  WoE ${b.woe.toFixed(3).padStart(7)}  points ${(f.points[i] as number).toFixed(1).padStart(7)}`,
      );
    });
  }
  return `${lines.join("\n")}\n`;
}
