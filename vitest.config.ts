import { defineConfig } from "vitest/config";

const shared = { testTimeout: 120_000, hookTimeout: 120_000 };

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
