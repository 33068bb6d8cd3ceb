import { seededRandom } from "../engine/random.ts";
import { selectRows } from "../engine/scorecard/dataset.ts";
import type { Scorecard } from "../engine/scorecard/scorecard.ts";
import { stratifiedSplit } from "../engine/scorecard/split.ts";
import { DEFAULT_TRAINING, type TrainingReport, trainScorecard } from "../engine/scorecard/train.ts";
import { type ValidationReport, validateScorecard } from "../engine/scorecard/validation.ts";
import type { Store } from "../store/connect.ts";
import { loadLabelledCsv, SCORECARD_LOAD_DEFAULTS } from "./dataset.ts";
import { type ModelVersion, registerDraft } from "./modelRegistry.ts";

export interface TrainRequest {
  data: string;
  target: string;
  bad?: string;
  version: string;
  author: string;
  /** Special values applied to every numeric column (e.g. -9,-8,-7 for HELOC). */
  specialValues?: number[];
  seed?: number;
}

export interface TrainedModel {
  scorecard: Scorecard;
  training: TrainingReport;
  validation: ValidationReport;
  trainingMs: number;
}

/** Trains on 70% of the file (stratified, seeded) and validates on the other 30%. */
export function trainFromCsv(request: TrainRequest): TrainedModel {
  const data = loadLabelledCsv(request.data, {
    target: request.target,
    bad: request.bad,
    ...SCORECARD_LOAD_DEFAULTS,
  });
  const split = stratifiedSplit(data.target, 0.3, seededRandom(request.seed ?? 42));
  const started = performance.now();
  const { scorecard, report } = trainScorecard(selectRows(data, split.train), request.version, {
    ...DEFAULT_TRAINING,
    binning: { ...DEFAULT_TRAINING.binning, specialValues: request.specialValues ?? [] },
  });
  const trainingMs = performance.now() - started;
  return {
    scorecard,
    training: report,
    validation: validateScorecard(scorecard, selectRows(data, split.test)),
    trainingMs,
  };
}

export async function trainAndRegister(
  store: Store,
  request: TrainRequest,
  at: number,
): Promise<TrainedModel & { model: ModelVersion }> {
  const trained = trainFromCsv(request);
  const model = await registerDraft(store, { ...trained, author: request.author }, at);
  return { ...trained, model };
}
