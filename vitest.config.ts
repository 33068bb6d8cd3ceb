import { defineConfig } from "vitest/config";

// Tests encrypt personal data under a fixed master key instead of generating data/master.key.
const shared = {
  testTimeout: 120_000,
  hookTimeout: 120_000,
  env: { HEADROOM_MASTER_KEY: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=" },
};

export default defineConfig({
  test: {
    pool: "forks",
    maxWorkers: 2,
    projects: [
      { test: { ...shared, name: "node", include: ["test/**/*.test.ts"], exclude: ["test/web/**"] } },
      {
        // Browser tests drive the built console; building it first keeps `npm test` one command.
        test: {
          ...shared,
          name: "web",
          include: ["test/web/**/*.test.ts"],
          globalSetup: ["test/web/buildConsole.ts"],
        },
      },
    ],
  },
});
