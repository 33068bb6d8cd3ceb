import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** The console builds into web/dist, which the API process serves at / (src/api/console.ts). */
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, chunkSizeWarningLimit: 800 },
  server: { proxy: { "/v1": "http://127.0.0.1:8080", "/openapi.json": "http://127.0.0.1:8080" } },
});
