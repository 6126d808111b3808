/**
 * The deployable artefacts say what the product promises: the app asks for exactly the
 * permissions and events it uses, and the image runs unprivileged on Node 22 with a health check.
 * (No Docker engine runs here, so the Dockerfile is checked as text.)
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8");

describe("app.yml", () => {
  const manifest = parse(read("app.yml")) as Record<string, unknown>;

  it("asks for the least permissions the whole product needs", () => {
    expect(manifest.default_permissions).toEqual({
      checks: "write",
      contents: "read",
      pull_requests: "read",
      issues: "write",
      members: "read",
      metadata: "read",
    });
  });

  it("subscribes to exactly the events jitsudo handles", () => {
    expect(manifest.default_events).toEqual(["check_run", "issue_comment", "pull_request", "pull_request_review", "push"]);
    expect(manifest.public).toBe(false);
  });
});

describe("Dockerfile", () => {
  const dockerfile = read("Dockerfile");

  it("builds and runs on Node 22 LTS", () => {
    const images = [...dockerfile.matchAll(/^FROM (\S+)/gm)].map((match) => match[1]);
    expect(images).toEqual(["node:22-bookworm-slim", "node:22-bookworm-slim"]);
  });

  it("runs as a non-root user with a health check on /healthz", () => {
    const runtime = dockerfile.slice(dockerfile.lastIndexOf("FROM "));
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\n?.*\/healthz/m);
    expect(runtime).not.toMatch(/npm (ci|install)(?! --omit)/);
  });
});

describe("package.json", () => {
  const pkg = JSON.parse(read("package.json")) as { engines: { node: string }; type: string; bin: Record<string, string> };
  it("is ESM, supports Node >= 20.18 and ships the jitsudo command", () => {
    expect(pkg.type).toBe("module");
    expect(pkg.engines.node).toBe(">=20.18.1");
    expect(pkg.bin).toEqual({ jitsudo: "dist/cli.js" });
  });
});
