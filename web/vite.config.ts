import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// Served by `tidings serve` at /app (tidings/web/static.py); `npm run dev` proxies /api to it.
export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/api": "http://127.0.0.1:8080" } },
  test: { environment: "happy-dom", include: ["src/**/*.test.{ts,tsx}"] },
});
