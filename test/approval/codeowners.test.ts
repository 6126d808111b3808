import { describe, it, expect } from "vitest";
import {
  CODEOWNERS_LOCATIONS,
  CODEOWNERS_MAX_BYTES,
  compileCodeownersPattern,
  formatCodeownersError,
  formatOwner,
  matchingRule,
  ownersOf,
  ownership,
  parseCodeowners,
  selectCodeownersFile,
  type Codeowners,
  type CodeownersMatch,
  type CodeownersOwner,
} from "../../src/approval/codeowners.js";

// How a pattern matches a path (see CodeownersMatch).
const DIRECT = "direct";
const NONE = "none";
// Only through a wildcard last segment matching a directory: owned under the primary reading,
// but GitHub's evidence disagrees, so a file decided this way can be ambiguous.
const WILDCARD_DIR = "wildcard-directory";

const owned = (codeowners: Codeowners, path: string): string[] => ownersOf(codeowners, path).map(formatOwner);

// The example file from GitHub's "About code owners" page, verbatim.
const GITHUB_EXAMPLE = `# This is a comment.
# Each line is a file pattern followed by one or more owners.

# These owners will be the default owners for everything in
# the repo. Unless a later match takes precedence,
# @global-owner1 and @global-owner2 will be requested for
# review when someone opens a pull request.
*       @global-owner1 @global-owner2

# Order is important; the last matching pattern takes the most
# precedence. When someone opens a pull request that only
# modifies JS files, only @js-owner and not the global
# owner(s) will be requested for a review.
*.js    @js-owner #This is an inline comment.

# You can also use email addresses if you prefer. They'll be
# used to look up users just like we do for commit author
# emails.
*.go docs@example.com

# Teams can be specified as code owners as well. Teams should
# be identified in the format @org/team-name. Teams must have
# explicit write access to the repository. In this example,
# the octocats team in the octo-org organization owns all .txt files.
*.txt @octo-org/octocats

# In this example, @doctocat owns any files in the build/logs
# directory at the root of the repository and any of its
# subdirectories.
/build/logs/ @doctocat

# The \`docs/*\` pattern will match files like
# \`docs/getting-started.md\` but not further nested files like
# \`docs/build-app/troubleshooting.md\`.
docs/*  docs@example.com

# In this example, @octocat owns any file in an apps directory
# anywhere in your repository.
apps/ @octocat

# In this example, @doctocat owns any file in the \`/docs\`
# directory in the root of your repository and any of its
# subdirectories.
/docs/ @doctocat

# In this example, any change inside the \`/scripts\` directory
# will require approval from @doctocat or @octocat.
/scripts/ @doctocat @octocat

# In this example, @octocat owns any file in a \`/logs\` directory such as
# \`/build/logs\`, \`/scripts/logs\`, and \`/deeply/nested/logs\`. Any changes
# in a \`/logs\` directory will require approval from @octocat.
**/logs @octocat

# In this example, @octocat owns any file in the \`/apps\`
# directory in the root of your repository except for the \`/apps/github\`
# subdirectory, as its owners are left empty.
/apps/ @octocat
/apps/github

# In this example, @octocat owns any file in the \`/apps\`
# directory in the root of your repository except for the \`/apps/github\`
# subdirectory, as this subdirectory has its own owner @doctocat
/apps/ @octocat
/apps/github @doctocat
`;

describe("pattern matching", () => {
  // [pattern, path, how it matches]. Taken from GitHub's documentation unless said otherwise.
  const cases: Array<[string, string, CodeownersMatch]> = [
    // `*`: the default owners, every file at any depth.
    ["*", "README.md", DIRECT],
    ["*", "src/deeply/nested/file.ts", DIRECT],
    ["*", ".github/workflows/ci.yml", DIRECT],
    // `*.js`, `*.go`, `*.txt`: by extension, at any depth; `*` stays inside one name.
    ["*.js", "app.js", DIRECT],
    ["*.js", "src/components/app.js", DIRECT],
    ["*.js", "app.jsx", NONE],
    ["*.js", "app.js.map", NONE],
    ["*.go", "main.go", DIRECT],
    ["*.go", "cmd/server/main.go", DIRECT],
    ["*.txt", "notes.txt", DIRECT],
    ["*.txt", "docs/notes.txt", DIRECT],
    // `/build/logs/`: everything under build/logs at the root, at any depth.
    ["/build/logs/", "build/logs/app.log", DIRECT],
    ["/build/logs/", "build/logs/2024/01/app.log", DIRECT],
    ["/build/logs/", "build/logs", NONE],
    ["/build/logs/", "src/build/logs/app.log", NONE],
    ["/build/logs/", "build/logs-old/app.log", NONE],
    // `docs/*`: direct children of the root docs/ only (GitHub's documented exception).
    ["docs/*", "docs/getting-started.md", DIRECT],
    ["docs/*", "docs/build-app/troubleshooting.md", NONE],
    ["docs/*", "src/docs/getting-started.md", NONE],
    ["docs/*", "docs", NONE],
    // `apps/`: a directory named apps anywhere.
    ["apps/", "apps/web/index.js", DIRECT],
    ["apps/", "src/apps/index.js", DIRECT],
    ["apps/", "deeply/nested/apps/a/b/c.js", DIRECT],
    ["apps/", "apps", NONE],
    ["apps/", "myapps/index.js", NONE],
    ["apps/", "src/apps.js", NONE],
    // `/docs/`: the root docs/ and all its subdirectories.
    ["/docs/", "docs/getting-started.md", DIRECT],
    ["/docs/", "docs/build-app/troubleshooting.md", DIRECT],
    ["/docs/", "src/docs/getting-started.md", NONE],
    // `/scripts/`
    ["/scripts/", "scripts/deploy.sh", DIRECT],
    ["/scripts/", "scripts/ci/run.sh", DIRECT],
    ["/scripts/", "tools/scripts/deploy.sh", NONE],
    // `**/logs`: a logs directory (or file) at any depth, including the root.
    ["**/logs", "build/logs/app.log", DIRECT],
    ["**/logs", "scripts/logs/out.txt", DIRECT],
    ["**/logs", "deeply/nested/logs/x/y.txt", DIRECT],
    ["**/logs", "logs/app.log", DIRECT],
    ["**/logs", "logs", DIRECT],
    ["**/logs", "catalogs/app.log", NONE],
    ["**/logs", "build/logs.txt", NONE],
    // `/apps/github`: a literal path owns itself and everything beneath it.
    ["/apps/github", "apps/github", DIRECT],
    ["/apps/github", "apps/github/index.js", DIRECT],
    ["/apps/github", "apps/github-legacy/index.js", NONE],
    ["/apps/github", "x/apps/github/index.js", NONE],
    // `/docs` without a trailing slash still owns the directory's contents.
    ["/docs", "docs/a/b.md", DIRECT],
    ["/docs", "docs.md", NONE],
    // `/*`: root entries only.
    ["/*", "README.md", DIRECT],
    ["/*", "docs/a.md", NONE],
    // `*` never crosses `/`.
    ["/src/*.ts", "src/index.ts", DIRECT],
    ["/src/*.ts", "src/lib/index.ts", NONE],
    // A wildcard last segment other than a lone `*` matches the file's own name directly, and a
    // directory on its path ambiguously: "if a directory is matched it applies to its full
    // contents" (GitHub, when CODEOWNERS shipped) and a test showing `dir*` owning
    // `dir1/john/script.js`, against one report that `/foo/b*` did not own `foo/bar/baz.txt`.
    // CHANGED: `/foo/b*` against `foo/bar/baz.txt` was `false` (that one report); it now matches
    // under the primary reading, flagged as a wildcard-directory match.
    ["/foo/b*", "foo/bar.txt", DIRECT],
    ["/foo/b*", "foo/bar/baz.txt", WILDCARD_DIR],
    ["/foo/b*", "foo/qux/bar.txt", NONE],
    ["dir*", "dir1/john/script.js", WILDCARD_DIR],
    ["dir*", "src/dir1/john/script.js", WILDCARD_DIR],
    ["dir*", "dir1", DIRECT],
    ["dir?", "dir1/john/script.js", WILDCARD_DIR],
    ["dir?", "dir12/john/script.js", NONE],
    ["access-req*", "access-requests/a.yaml", WILDCARD_DIR],
    ["access-req*", "access-requests/team/a.yaml", WILDCARD_DIR],
    ["access-req*", "access-requests", DIRECT],
    ["access-req*", "access-re/a.yaml", NONE],
    ["**/access-req*", "access-requests/a.yaml", WILDCARD_DIR],
    ["*.yaml", "a.yaml/b.txt", WILDCARD_DIR],
    ["*.yaml", "a.yaml/b.yaml", DIRECT], // the file's own name matches too
    // …also with a trailing slash, which names only directories; a lone `*` then is no exception.
    ["access-req*/", "access-requests/a.yaml", WILDCARD_DIR],
    ["access-req*/", "access-requests", NONE],
    ["/access-requests/*/", "access-requests/team/a.yaml", WILDCARD_DIR],
    ["/access-requests/*/", "access-requests/a.yaml", NONE],
    // A literal last segment is no wildcard, even when spelled with an escaped `*`.
    ["/access-req\\*", "access-req*/a.yaml", DIRECT],
    ["/access-req\\*", "access-requests/a.yaml", NONE],
    // `*` alone owns every file, directly: it matches each file's own name.
    ["*", "access-requests/a.yaml", DIRECT],
    ["*", "a/b/c/d/e.txt", DIRECT],
    // `docs/*` stays at its level, however deep the path.
    ["docs/*", "docs/a/b.md", NONE],
    ["/access-requests/*", "access-requests/team/a.yaml", NONE],
    // Wildcards in a middle segment matching a directory are ordinary gitignore: direct.
    ["/access-*/alice/", "access-requests/alice/a.yaml", DIRECT],
    ["/access-*/alice/", "access-requests/bob/a.yaml", NONE],
    ["/access-?equests/alice", "access-requests/alice/a.yaml", DIRECT],
    ["/*/alice.yaml", "access-requests/alice.yaml", DIRECT],
    // A trailing `**` owns what is inside, directly.
    ["/access-requests/**", "access-requests/team/a.yaml", DIRECT],
    ["acc*/**", "access-requests/a.yaml", DIRECT],
    ["**", "a/b/c.txt", DIRECT],
    ["/**", "README.md", DIRECT],
    ["a/**/", "a/b", DIRECT], // read as `a/**`, as before
    // `*` and `?` match any character but `/`, line terminators and control characters included
    // (JavaScript's `.` would not): request file names may hold them.
    ["/access-requests/*.yaml", "access-requests/a\nb.yaml", DIRECT],
    ["/access-requests/*.yaml", "access-requests/a\rb.yaml", DIRECT],
    ["/access-requests/*.yaml", "access-requests/\u2028.yaml", DIRECT],
    ["/access-requests/*.yaml", "access-requests/a\u2029b.yaml", DIRECT],
    ["/access-requests/*.yaml", "access-requests/\u0000\u0001\u001f\t\v\f\u0085.yaml", DIRECT],
    ["/access-requests/*", "access-requests/\n", DIRECT],
    ["/access-requests/a?b.yaml", "access-requests/a\u2028b.yaml", DIRECT],
    ["/access-requests/a?b.yaml", "access-requests/a\nb.yaml", DIRECT],
    ["/access-requests/a?b.yaml", "access-requests/a\rb.yaml", DIRECT],
    ["/access-requests/a?b.yaml", "access-requests/a\u2029b.yaml", DIRECT],
    ["/access-requests/a?b.yaml", "access-requests/a\u0000b.yaml", DIRECT],
    ["/access-requests/?", "access-requests/\r", DIRECT],
    ["/access-requests/*.yaml", "access-requests/a\n/b.yaml", NONE], // still never crosses `/`
    ["access-req*", "access-requests\n/a.yaml", WILDCARD_DIR],
    // `?` is one character (a code point), also outside the Basic Multilingual Plane.
    ["/a?b", "a\u{1F600}b", DIRECT],
    ["/a??b", "a\u{1F600}b", NONE],
    ["/a*b", "a\u{1F600}\u{1F600}b", DIRECT],
    // `?`: exactly one character, never `/`.
    ["f?o.md", "foo.md", DIRECT],
    ["f?o.md", "sub/fxo.md", DIRECT],
    ["f?o.md", "fo.md", NONE],
    ["f?o.md", "fooo.md", NONE],
    ["/a?b", "a/b", NONE],
    // `**` in the middle: zero or more directories.
    ["docs/**/index.md", "docs/index.md", DIRECT],
    ["docs/**/index.md", "docs/a/b/c/index.md", DIRECT],
    ["docs/**/index.md", "docs/a/readme.md", NONE],
    ["docs/**/index.md", "site/docs/index.md", NONE],
    ["/src/**/Permissions/", "src/a/b/Permissions/x.al", DIRECT],
    ["/src/**/Permissions/", "src/Permissions/x.al", DIRECT],
    ["/src/**/test/**/*.snap", "src/a/test/b/c/x.snap", DIRECT],
    ["/src/**/test/**/*.snap", "src/test/x.snap", DIRECT],
    ["/src/**/test/**/*.snap", "src/a/b/x.snap", NONE],
    // `a/**`: everything inside a, but not a itself.
    ["a/**", "a/b", DIRECT],
    ["a/**", "a/b/c/d", DIRECT],
    ["a/**", "a", NONE],
    ["a/**", "b/a/c", NONE],
    // A slash in the middle anchors to the root; none means any depth.
    ["src/lib", "src/lib/util.ts", DIRECT],
    ["src/lib", "packages/x/src/lib/util.ts", NONE],
    ["logs", "logs", DIRECT],
    ["logs", "a/b/logs/c.txt", DIRECT],
    ["logs", "a/logs.txt", NONE],
    // Case-sensitive, like GitHub's file system.
    ["/Docs/", "docs/a.md", NONE],
    ["*.md", "README.MD", NONE],
    ["*.md", "README.md", DIRECT],
    // Escapes GitHub accepts: a space and literal brackets.
    ["/My\\ Docs/", "My Docs/guide.md", DIRECT],
    ["/My\\ Docs/", "My/guide.md", NONE],
    ["/pages/\\[id\\].tsx", "pages/[id].tsx", DIRECT],
    ["/pages/\\[id\\].tsx", "pages/i.tsx", NONE],
    // Regex metacharacters are literal.
    ["/a+b(c).txt", "a+b(c).txt", DIRECT],
    ["/a+b(c).txt", "aab(c)xtxt", NONE],
  ];

  it.each(cases)("%s against %j -> %s", (pattern, path, expected) => {
    expect(compileCodeownersPattern(pattern).match(path)).toBe(expected);
    const codeowners = parseCodeowners(`${pattern} @owner`);
    expect(codeowners.errors).toEqual([]);
    expect(matchingRule(codeowners, path) !== undefined).toBe(expected !== NONE);
    // Alone in a file, a wildcard-directory match is ambiguous: @owner, or nobody.
    expect(ownership(codeowners, path).ambiguity !== undefined).toBe(expected === WILDCARD_DIR);
  });

  it("has the cases this suite promises", () => {
    expect(cases.length).toBeGreaterThanOrEqual(130);
  });

  it("compiles a pattern to a matcher that tells how it matches", () => {
    const docs = compileCodeownersPattern("docs/*");
    expect(docs.pattern).toBe("docs/*");
    expect(docs).not.toBeInstanceOf(RegExp);
    expect(docs.match("docs/a.md")).toBe(DIRECT);
    expect(docs.match("/docs/a.md")).toBe(DIRECT); // a leading slash is ignored
    expect(docs.match("docs/a/b.md")).toBe(NONE);
    expect(compileCodeownersPattern("**").match("")).toBe(NONE); // no file at all
    expect(compileCodeownersPattern("/**").match("/")).toBe(NONE);
    expect(compileCodeownersPattern("access-req*").match("access-requests/a.yaml")).toBe(WILDCARD_DIR);
    expect(() => compileCodeownersPattern("!docs/")).toThrow('"!docs/" uses negation ("!")');
    expect(() => compileCodeownersPattern("***/*.rb")).toThrow('"***/*.rb" has three or more consecutive "*"');
  });

  it("builds no RegExp from pattern text", () => {
    const original = globalThis.RegExp;
    let constructed = 0;
    globalThis.RegExp = new Proxy(original, {
      construct(target, args: unknown[]) {
        constructed++;
        return Reflect.construct(target, args) as object;
      },
      apply(target, thisArg, args: unknown[]) {
        constructed++;
        return Reflect.apply(target, thisArg, args) as unknown;
      },
    });
    try {
      const codeowners = parseCodeowners("* @a\n/docs/ @b\naccess-req* @c\n**/x/**/*.y?ml @d\n");
      ownership(codeowners, "access-requests/x/a.yaml");
      compileCodeownersPattern("*a*a*b").match("aaab");
    } finally {
      globalThis.RegExp = original;
    }
    expect(constructed).toBe(0);
  });
});

describe("against a plain dynamic-programming reference", () => {
  // The matcher takes shortcuts (leftmost blocks, bit-parallel search for long blocks and runs,
  // skipping to a block's last literal). This reference takes none: a table over every
  // (pattern position, text position), and every prefix of the path. Random cases from a fixed
  // seed, with long blocks and runs (at least 8) so that the bit-parallel search is exercised.
  const globMatches = (glob: string, name: string): boolean => {
    const atoms = [...glob];
    const text = [...name];
    // rest[i][j]: atoms[i..] match text[j..]
    const rest = Array.from({ length: atoms.length + 1 }, () => new Array<boolean>(text.length + 1).fill(false));
    rest[atoms.length]![text.length] = true;
    for (let i = atoms.length - 1; i >= 0; i--) {
      for (let j = text.length; j >= 0; j--) {
        const atom = atoms[i];
        if (atom === "*") rest[i]![j] = rest[i + 1]![j]! || (j < text.length && rest[i]![j + 1]!);
        else rest[i]![j] = j < text.length && (atom === "?" || atom === text[j]) && rest[i + 1]![j + 1]!;
      }
    }
    return rest[0]![0]!;
  };

  /** Every k such that the pattern segments match the first k path segments. */
  const prefixesMatched = (segments: readonly string[], names: readonly string[]): Set<number> => {
    let reach = new Set([0]);
    for (const segment of segments) {
      const next = new Set<number>();
      if (segment === "**") {
        const least = Math.min(...reach);
        for (let k = least; k <= names.length; k++) next.add(k);
      } else {
        for (const k of reach) if (k < names.length && globMatches(segment, names[k]!)) next.add(k + 1);
      }
      reach = next;
    }
    return reach;
  };

  const reference = (pattern: string, path: string): CodeownersMatch => {
    const rooted = pattern.startsWith("/");
    const directory = pattern.endsWith("/");
    let segments = pattern.slice(rooted ? 1 : 0, directory ? -1 : undefined).split("/");
    const last = segments.at(-1)!;
    if (!rooted && segments.length === 1) segments = ["**", ...segments];
    const names = path.split("/");
    if (last === "**") {
      return [...prefixesMatched(segments.slice(0, -1), names)].some((k) => k < names.length) ? DIRECT : NONE;
    }
    const matched = prefixesMatched(segments, names);
    const self = matched.has(names.length);
    const inDirectory = [...matched].some((k) => k >= 1 && k < names.length);
    const wildcard = last.includes("*") || last.includes("?");
    if (directory) return inDirectory ? (wildcard ? WILDCARD_DIR : DIRECT) : NONE;
    if (self) return DIRECT;
    if (last === "*") return NONE;
    return inDirectory ? (wildcard ? WILDCARD_DIR : DIRECT) : NONE;
  };

  // mulberry32: small, seeded, good enough to spread cases.
  const random = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const next = random(20240611);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const between = (low: number, high: number) => low + Math.floor(next() * (high - low + 1));

  const globSegment = (length: number, starChance: number): string => {
    let segment = "";
    while (segment.length < length) {
      const roll = next();
      if (roll < starChance && !segment.endsWith("**")) segment += "*";
      else segment += roll < starChance + 0.15 ? "?" : pick(["a", "a", "a", "b", "\n"]);
    }
    return segment === "**" ? "*" : segment;
  };
  const patternOf = (segments: string[]): string => `${next() < 0.5 ? "/" : ""}${segments.join("/")}${next() < 0.25 ? "/" : ""}`;
  const nameOf = (length: number) => Array.from({ length }, () => pick(["a", "a", "a", "a", "b", "\n"])).join("");

  // [pattern, path] families: short everything; long blocks inside one name; long runs of segments.
  const cases: Array<[string, string]> = [];
  for (let i = 0; i < 1500; i++) {
    const segments = Array.from({ length: between(1, 4) }, () => (next() < 0.2 ? "**" : globSegment(between(1, 5), 0.3)));
    cases.push([patternOf(segments), Array.from({ length: between(1, 5) }, () => nameOf(between(1, 4))).join("/")]);
  }
  for (let i = 0; i < 1500; i++) {
    const segments = [pick(["**", "a*", "*"]), globSegment(between(10, 40), 0.1)];
    cases.push([patternOf(segments), `${pick(["", "a/", "aa/"])}${nameOf(between(8, 60))}${pick(["", "/a", "/b/a"])}`]);
  }
  for (let i = 0; i < 1500; i++) {
    const run = () => Array.from({ length: between(8, 11) }, () => pick(["a", "a", "?", "*", "a*", "b", "**"])).join("/");
    const segments = [pick(["**", "a"]), run(), ...(next() < 0.5 ? ["**", run()] : [])];
    cases.push([patternOf(segments), Array.from({ length: between(8, 30) }, () => pick(["a", "a", "a", "b", "ab"])).join("/")]);
  }

  // Blocks and runs longer than one 32-bit word, against text made from them (so that they match
  // or, with one character changed, nearly match) amid near-matching padding.
  const instance = (atoms: readonly string[], fill: (atom: string) => string) => {
    const filled = atoms.map(fill);
    if (next() < 0.5) filled[between(0, filled.length - 1)] = "b";
    return filled;
  };
  const padding = (length: number) => Array.from({ length }, () => pick(["a", "a", "a", "a", "a", "b"]));
  for (let i = 0; i < 600; i++) {
    const block = Array.from({ length: between(33, 70) }, () => pick(["a", "a", "a", "a", "a", "?", "b"]));
    const text = instance(block, (atom) => (atom === "?" ? pick(["a", "b", "\n"]) : atom));
    const name = [...padding(between(0, 40)), ...text, ...padding(between(0, 40))].join("");
    cases.push([`${pick(["", "/"])}*${block.join("")}*${pick(["", "a", "?"])}`, name]);
  }
  for (let i = 0; i < 300; i++) {
    const run = Array.from({ length: between(33, 45) }, () => pick(["a", "a", "a", "?", "a*", "b"]));
    const names = instance(run, (atom) => (atom === "?" ? pick(["a", "b"]) : atom === "a*" ? pick(["a", "ab"]) : atom));
    const path = [...padding(between(0, 20)), ...names, ...padding(between(0, 20))].join("/");
    cases.push([`**/${run.join("/")}${pick(["", "/**", "/"])}`, path]);
  }

  it("agrees on every case", () => {
    const disagreements = cases.flatMap(([pattern, path]) => {
      const expected = reference(pattern, path);
      const actual = compileCodeownersPattern(pattern).match(path);
      return actual === expected ? [] : [{ pattern, path, expected, actual }];
    });
    expect(disagreements.slice(0, 5)).toEqual([]);
  });

  it("sees every kind of match in the random cases, in every family", () => {
    const kinds = (from: number, to: number) =>
      [...new Set(cases.slice(from, to).map(([pattern, path]) => reference(pattern, path)))].sort();
    expect(kinds(0, 4500)).toEqual([DIRECT, NONE, WILDCARD_DIR]);
    expect(kinds(4500, 5100)).toEqual([DIRECT, NONE]); // long blocks in a name
    expect(kinds(5100, 5400)).toEqual([DIRECT, NONE, WILDCARD_DIR]); // long runs of segments
  });
});

describe("GitHub's example CODEOWNERS file", () => {
  const codeowners = parseCodeowners(GITHUB_EXAMPLE);

  it("parses with no errors and keeps the line numbers", () => {
    expect(codeowners.errors).toEqual([]);
    expect(codeowners.rules.map((rule) => [rule.line, rule.pattern])).toEqual([
      [8, "*"],
      [14, "*.js"],
      [19, "*.go"],
      [25, "*.txt"],
      [30, "/build/logs/"],
      [35, "docs/*"],
      [39, "apps/"],
      [44, "/docs/"],
      [48, "/scripts/"],
      [53, "**/logs"],
      [58, "/apps/"],
      [59, "/apps/github"],
      [64, "/apps/"],
      [65, "/apps/github"],
    ]);
  });

  it("reads users, emails and teams, and strips the inline comment", () => {
    expect(codeowners.rules[0]!.owners).toEqual([
      { kind: "user", login: "global-owner1" },
      { kind: "user", login: "global-owner2" },
    ]);
    expect(codeowners.rules[1]!.owners).toEqual([{ kind: "user", login: "js-owner" }]);
    expect(codeowners.rules[2]!.owners).toEqual([{ kind: "email", email: "docs@example.com" }]);
    expect(codeowners.rules[3]!.owners).toEqual([{ kind: "team", org: "octo-org", slug: "octocats" }]);
  });

  // [path, deciding line, owners]: the last matching line wins across the whole file.
  const cases: Array<[string, number, string[]]> = [
    ["README.md", 8, ["@global-owner1", "@global-owner2"]],
    ["src/index.js", 14, ["@js-owner"]],
    ["cmd/server/main.go", 19, ["docs@example.com"]],
    ["notes.txt", 25, ["@octo-org/octocats"]],
    ["build/logs/app.js", 53, ["@octocat"]], // `**/logs` comes after `/build/logs/`
    ["docs/getting-started.md", 44, ["@doctocat"]], // `/docs/` comes after `docs/*`
    ["docs/build-app/troubleshooting.md", 44, ["@doctocat"]],
    ["src/docs/guide.md", 8, ["@global-owner1", "@global-owner2"]], // `docs/*` is rooted
    ["scripts/deploy.js", 48, ["@doctocat", "@octocat"]],
    ["scripts/logs/out.txt", 53, ["@octocat"]],
    ["deeply/nested/logs/x.go", 53, ["@octocat"]],
    ["lib/apps/util.go", 39, ["@octocat"]],
    ["apps/web/index.js", 64, ["@octocat"]],
    ["apps/github/index.js", 65, ["@doctocat"]],
    ["src/Main.GO", 8, ["@global-owner1", "@global-owner2"]], // case-sensitive
  ];

  it.each(cases)("%s is decided by line %i", (path, line, expected) => {
    expect(matchingRule(codeowners, path)?.line).toBe(line);
    expect(owned(codeowners, path)).toEqual(expected);
    const decided = ownership(codeowners, path);
    expect(decided.rule?.line).toBe(line);
    expect(decided.owners.map(formatOwner)).toEqual(expected);
    expect(decided.ambiguity).toBeUndefined();
  });

  it("un-owns /apps/github when its line has no owners", () => {
    const upToLine59 = parseCodeowners(GITHUB_EXAMPLE.split("\n").slice(0, 59).join("\n"));
    expect(upToLine59.errors).toEqual([]);
    expect(matchingRule(upToLine59, "apps/github/index.js")).toEqual({ line: 59, pattern: "/apps/github", owners: [] });
    expect(ownersOf(upToLine59, "apps/github/index.js")).toEqual([]);
    expect(owned(upToLine59, "apps/web/index.js")).toEqual(["@octocat"]);
  });
});

describe("ownership and ambiguous readings", () => {
  const SECURITY: CodeownersOwner = { kind: "team", org: "acme", slug: "security" };
  const BOB: CodeownersOwner = { kind: "user", login: "bob" };
  const REQUEST = "access-requests/a.yaml";

  it("gives a wildcard-directory line the file under the primary reading, and reports the other", () => {
    const codeowners = parseCodeowners("* @bob\naccess-req* @acme/security\n");
    expect(owned(codeowners, REQUEST)).toEqual(["@acme/security"]);
    expect(matchingRule(codeowners, REQUEST)?.line).toBe(2);
    expect(ownership(codeowners, REQUEST)).toEqual({
      rule: { line: 2, pattern: "access-req*", owners: [SECURITY] },
      owners: [SECURITY],
      ambiguity: {
        lines: [{ line: 2, pattern: "access-req*" }],
        readings: [[SECURITY], [BOB]],
        message:
          '.github/CODEOWNERS line 2 ("access-req*") matches the directory access-requests through a wildcard, and GitHub\'s documentation and reports disagree on whether that owns the files inside it; rewrite it without a wildcard in its last segment (for example /access-requests/), so the owners of access-requests/a.yaml are certain',
      },
    });
  });

  it("words the message for a PR comment", () => {
    const codeowners = parseCodeowners("* @bob\n# requests\naccess-req* @acme/security\n", "CODEOWNERS");
    expect(ownership(codeowners, "access-requests/alice.yaml").ambiguity?.message).toBe(
      'CODEOWNERS line 3 ("access-req*") matches the directory access-requests through a wildcard, and GitHub\'s documentation and reports disagree on whether that owns the files inside it; rewrite it without a wildcard in its last segment (for example /access-requests/), so the owners of access-requests/alice.yaml are certain',
    );
  });

  it("is not ambiguous when both readings give the same owners", () => {
    const codeowners = parseCodeowners("* @acme/security\naccess-req* @acme/security\n");
    expect(ownership(codeowners, REQUEST)).toEqual({ rule: codeowners.rules[1], owners: [SECURITY] });
  });

  it("compares readings as sets of owners", () => {
    const codeowners = parseCodeowners("* @bob @acme/security @bob\naccess-req* @acme/security @bob\n");
    expect(ownership(codeowners, REQUEST).ambiguity).toBeUndefined();
    const differs = parseCodeowners("* @bob @acme/security\naccess-req* @acme/security\n");
    expect(ownership(differs, REQUEST).ambiguity?.readings).toEqual([[SECURITY], [BOB, SECURITY]]);
  });

  it("is not ambiguous for a literal directory", () => {
    const codeowners = parseCodeowners("* @bob\n/access-requests/ @acme/security\n");
    expect(ownership(codeowners, REQUEST)).toEqual({ rule: codeowners.rules[1], owners: [SECURITY] });
  });

  it("is not ambiguous when a later direct line decides", () => {
    const codeowners = parseCodeowners("* @bob\naccess-req* @acme/security\n/access-requests/ @acme/sre\n");
    expect(ownership(codeowners, REQUEST)).toEqual({
      rule: codeowners.rules[2],
      owners: [{ kind: "team", org: "acme", slug: "sre" }],
    });
    const byName = parseCodeowners("* @bob\naccess-req* @acme/security\n*.yaml @acme/sre\n");
    expect(ownership(byName, REQUEST).ambiguity).toBeUndefined();
    expect(owned(byName, REQUEST)).toEqual(["@acme/sre"]);
  });

  it("is ambiguous when an earlier direct line gives other owners, even through other lines", () => {
    // Line 3 decides under the primary reading; without it line 2 would (ambiguous itself);
    // without both, line 1.
    const codeowners = parseCodeowners("* @bob\naccess-req* @acme/security\naccess-r* @acme/security\n");
    const result = ownership(codeowners, REQUEST);
    expect(result.rule?.line).toBe(3);
    expect(result.ambiguity).toEqual({
      lines: [
        { line: 2, pattern: "access-req*" },
        { line: 3, pattern: "access-r*" },
      ],
      readings: [[SECURITY], [BOB]],
      message:
        '.github/CODEOWNERS lines 2 ("access-req*", matching the directory access-requests) and 3 ("access-r*", matching the directory access-requests) match directories through a wildcard, and GitHub\'s documentation and reports disagree on whether that owns the files inside them; rewrite them without a wildcard in their last segment (for example /access-requests/), so the owners of access-requests/a.yaml are certain',
    });
  });

  it("names at most five lines, and counts the rest", () => {
    // access-r*, access-re*, …, access-requests*: each matches the directory access-requests.
    const stacked = Array.from({ length: 8 }, (_, index) => `${"access-requests".slice(0, 8 + index)}* @team-${index}`);
    const codeowners = parseCodeowners(["* @bob", ...stacked].join("\n"));
    const result = ownership(codeowners, REQUEST);
    expect(result.ambiguity?.lines.map(({ line }) => line)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    expect(result.ambiguity?.readings).toHaveLength(9);
    expect(result.ambiguity?.message).toMatch(
      /^\.github\/CODEOWNERS lines 2 \("access-r\*", matching the directory access-requests\), 3 .*, 6 \("access-reque\*", matching the directory access-requests\) and 3 more match directories through a wildcard, /,
    );
  });

  it("stops at the first direct line up the file", () => {
    const codeowners = parseCodeowners("* @bob\n/access-requests/ @acme/security\naccess-req* @acme/security\naccess-r* @acme/security\n");
    expect(ownership(codeowners, REQUEST)).toEqual({ rule: codeowners.rules[3], owners: [SECURITY] });
  });

  it("counts 'no line above' as unowned, and an owner-less line as a reading", () => {
    const alone = parseCodeowners("access-req* @acme/security\n");
    expect(ownership(alone, REQUEST).ambiguity?.readings).toEqual([[SECURITY], []]);
    const unowning = parseCodeowners("* @bob\naccess-req*\n");
    const result = ownership(unowning, REQUEST);
    expect(result.owners).toEqual([]);
    expect(result.rule?.line).toBe(2);
    expect(result.ambiguity?.readings).toEqual([[], [BOB]]);
    expect(ownersOf(unowning, REQUEST)).toEqual([]);
  });

  it("names the directory the wildcard matched, and suggests it", () => {
    const codeowners = parseCodeowners("* @bob\n/access-requests/te* @acme/security\n");
    const message = ownership(codeowners, "access-requests/team/a b/x.yaml").ambiguity?.message;
    expect(message).toContain("matches the directory access-requests/team through a wildcard");
    expect(message).toContain("(for example /access-requests/team/)");
    const spaced = parseCodeowners("* @bob\n/My\\ Do* @acme/security\n");
    expect(ownership(spaced, "My Docs/a.md").ambiguity?.message).toContain("(for example /My\\ Docs/)");
  });

  it("escapes control characters and caps long values in the message", () => {
    const codeowners = parseCodeowners("* @bob\naccess-req* @acme/security\n");
    const message = ownership(codeowners, "access-req\nuests\u2028/a\u202e\u0000.yaml").ambiguity?.message ?? "";
    expect(message).toContain("the directory access-req\\nuests\\u2028 through");
    expect(message).toContain("owners of access-req\\nuests\\u2028/a\\u202e\\u0000.yaml are certain");
    expect(message).not.toMatch(/[\u0000-\u001f\u2028\u2029\u202e]/);

    const long = `access-req${"x".repeat(500)}`;
    const capped = ownership(codeowners, `${long}/a.yaml`).ambiguity?.message ?? "";
    expect(capped).toContain(`the directory ${long.slice(0, 200)}… through`);
    expect(capped).not.toContain(long.slice(0, 201));
  });

  it("returns no rule and no owners when nothing matches", () => {
    expect(ownership(parseCodeowners("/docs/ @a\n"), REQUEST)).toEqual({ owners: [] });
  });

  it("works on a clone of the parsed result", () => {
    const codeowners = parseCodeowners("* @bob\naccess-req* @acme/security\n");
    const clone: Codeowners = JSON.parse(JSON.stringify(codeowners)) as Codeowners;
    expect(ownership(clone, REQUEST)).toEqual(ownership(codeowners, REQUEST));
  });
});

describe("parsing", () => {
  it("returns undefined and [] when no line matches", () => {
    const codeowners = parseCodeowners("/docs/ @alice\n");
    expect(matchingRule(codeowners, "src/a.ts")).toBeUndefined();
    expect(ownersOf(codeowners, "src/a.ts")).toEqual([]);
  });

  it("un-owns with an owner-less line, even one that only has an inline comment", () => {
    const codeowners = parseCodeowners("* @admins\n/generated/ # nobody reviews generated code\n");
    expect(codeowners.rules).toEqual([
      { line: 1, pattern: "*", owners: [{ kind: "user", login: "admins" }] },
      { line: 2, pattern: "/generated/", owners: [] },
    ]);
    expect(matchingRule(codeowners, "generated/api.ts")?.line).toBe(2);
    expect(ownersOf(codeowners, "generated/api.ts")).toEqual([]);
  });

  it("ignores comments, blank lines, indentation, tabs and CRLF, keeping 1-based line numbers", () => {
    const text = "# top comment\r\n\r\n   # indented comment\r\n\t/a/\t@alice\t\t@org/team-a   \r\n\r\n*.md docs@example.com # inline\r\n";
    const codeowners = parseCodeowners(text, "CODEOWNERS");
    expect(codeowners).toEqual({
      path: "CODEOWNERS",
      errors: [],
      rules: [
        {
          line: 4,
          pattern: "/a/",
          owners: [
            { kind: "user", login: "alice" },
            { kind: "team", org: "org", slug: "team-a" },
          ],
        },
        { line: 6, pattern: "*.md", owners: [{ kind: "email", email: "docs@example.com" }] },
      ],
    });
  });

  it("keeps logins as written and reads Enterprise Managed User logins", () => {
    const codeowners = parseCodeowners("* @Mona-Lisa @octocat_acme @My-Org/Team_1.x\n");
    expect(codeowners.rules[0]!.owners).toEqual<CodeownersOwner[]>([
      { kind: "user", login: "Mona-Lisa" },
      { kind: "user", login: "octocat_acme" },
      { kind: "team", org: "My-Org", slug: "Team_1.x" },
    ]);
  });

  it("keeps an escaped space inside the pattern", () => {
    const codeowners = parseCodeowners("/My\\ Docs/ @alice\n");
    expect(codeowners.rules).toEqual([{ line: 1, pattern: "/My\\ Docs/", owners: [{ kind: "user", login: "alice" }] }]);
    expect(owned(codeowners, "My Docs/a.md")).toEqual(["@alice"]);
  });

  it("defaults the path to .github/CODEOWNERS", () => {
    expect(parseCodeowners("").path).toBe(".github/CODEOWNERS");
  });

  it("matches a clone of the parsed result too", () => {
    const codeowners = parseCodeowners("* @a\n/docs/ @b\n");
    const clone: Codeowners = JSON.parse(JSON.stringify(codeowners)) as Codeowners;
    expect(owned(clone, "docs/x/y.md")).toEqual(["@b"]);
    expect(owned(clone, "src/y.md")).toEqual(["@a"]);
  });
});

describe("invalid lines", () => {
  // [line, message]: each line is skipped with exactly this error.
  const cases: Array<[string, string]> = [
    ["!docs/ @alice", '"!docs/" uses negation ("!"), which CODEOWNERS does not support; GitHub ignores this line'],
    [
      "Python/ceval*.[ch] @alice",
      '"Python/ceval*.[ch]" uses a character range ("[ ]"), which CODEOWNERS does not support (escape a literal bracket as "\\[" or "\\]"); GitHub ignores this line',
    ],
    [
      "/pages/[id].tsx @alice",
      '"/pages/[id].tsx" uses a character range ("[ ]"), which CODEOWNERS does not support (escape a literal bracket as "\\[" or "\\]"); GitHub ignores this line',
    ],
    ["\\#notes.md @alice", '"\\#notes.md" escapes "#" with a backslash, which CODEOWNERS does not support; GitHub ignores this line'],
    ["* alice", 'owner "alice" is not @user, @org/team or an email address; GitHub ignores this line'],
    ["*.txt docs@", 'owner "docs@" is not @user, @org/team or an email address; GitHub ignores this line'],
    ["*.txt @org/team/sub", 'owner "@org/team/sub" is not @user, @org/team or an email address; GitHub ignores this line'],
    ["*.txt @alice,", 'owner "@alice," is not @user, @org/team or an email address; GitHub ignores this line'],
    ["***/*.rb @monalisa", '"***/*.rb" has three or more consecutive "*", which is not a valid pattern; GitHub ignores this line'],
    ["/ @alice", '"/" never matches anything (use "*" for every file); GitHub ignores this line'],
    ["docs\\", '"docs\\" ends with a lone backslash, which escapes nothing; remove it or escape what follows'],
    ["docs//a @alice", '"docs//a" has an empty path segment ("//"), which matches no file; remove the extra "/"'],
  ];

  it.each(cases)("%s", (line, message) => {
    // The bad line sits between two good ones, on line 2.
    const codeowners = parseCodeowners(`* @admins\n${line}\n/x/ @x\n`);
    expect(codeowners.errors).toEqual([{ line: 2, message }]);
    expect(codeowners.rules.map((rule) => rule.line)).toEqual([1, 3]);
  });

  it("strips `#…` from the owners before checking them", () => {
    // `#ok` starts a comment, so `@bob,` is never read as an owner.
    expect(parseCodeowners("*.txt @alice #ok @bob,\n").errors).toEqual([]);
  });

  it("hands a skipped line's paths to an earlier, broader rule, which is why callers fail closed", () => {
    const codeowners = parseCodeowners("* @admins\n!secrets/ @security\nsecrets/[ab] @security\n");
    expect(codeowners.errors.map((error) => error.line)).toEqual([2, 3]);
    expect(owned(codeowners, "secrets/a")).toEqual(["@admins"]);
  });

  it("formats an error with its line number", () => {
    const [error] = parseCodeowners("* @a\n\n\n!docs/ @b\n").errors;
    expect(formatCodeownersError(error!)).toBe(
      'line 4: "!docs/" uses negation ("!"), which CODEOWNERS does not support; GitHub ignores this line',
    );
  });

  it("ignores a file of 3 MB or more entirely", () => {
    const big = `* @alice\n#${"x".repeat(CODEOWNERS_MAX_BYTES)}\n`;
    expect(parseCodeowners(big, "CODEOWNERS")).toEqual({
      path: "CODEOWNERS",
      rules: [],
      errors: [
        {
          line: 1,
          message: `CODEOWNERS is ${CODEOWNERS_MAX_BYTES + 11} bytes; GitHub only loads a CODEOWNERS file under 3 MB (3145728 bytes), so it ignores every line`,
        },
      ],
    });
  });

  it("counts UTF-8 bytes, not characters, against the 3 MB limit", () => {
    const accents = "é".repeat(CODEOWNERS_MAX_BYTES / 2); // 2 bytes each: exactly the limit
    expect(parseCodeowners(`#${accents}`).errors).toHaveLength(1);
    expect(parseCodeowners(`* @alice\n#${accents.slice(10)}`).errors).toEqual([]);
  });
});

describe("selectCodeownersFile", () => {
  it("searches .github/, the root, then docs/", () => {
    expect(CODEOWNERS_LOCATIONS).toEqual([".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]);
    expect(selectCodeownersFile({ "docs/CODEOWNERS": "c", CODEOWNERS: "b", ".github/CODEOWNERS": "a" })).toEqual({
      path: ".github/CODEOWNERS",
      text: "a",
    });
    expect(selectCodeownersFile({ "docs/CODEOWNERS": "c", CODEOWNERS: "b" })).toEqual({ path: "CODEOWNERS", text: "b" });
    expect(selectCodeownersFile({ "docs/CODEOWNERS": "c" })).toEqual({ path: "docs/CODEOWNERS", text: "c" });
  });

  it("uses an empty file that exists, and returns undefined when there is none", () => {
    expect(selectCodeownersFile({ ".github/CODEOWNERS": "", CODEOWNERS: "* @a" })).toEqual({ path: ".github/CODEOWNERS", text: "" });
    expect(selectCodeownersFile({})).toBeUndefined();
  });
});

describe("formatOwner", () => {
  it("writes each kind as it appears in CODEOWNERS", () => {
    expect(formatOwner({ kind: "user", login: "alice" })).toBe("@alice");
    expect(formatOwner({ kind: "team", org: "org", slug: "team" })).toBe("@org/team");
    expect(formatOwner({ kind: "email", email: "a@b.com" })).toBe("a@b.com");
  });
});

describe("performance", () => {
  it("globs many stars against a 3,000-character name without backtracking", () => {
    // The old RegExp took 12 s for `*a*a*a*a*a*a*b` against a 70-character name, and doubled per `a`.
    const name = "a".repeat(3000);
    const stars = parseCodeowners("*a*a*a*a*a*a*a*a*b @stars\n");
    expect(ownersOf(stars, `access-requests/${name}.yaml`)).toEqual([]);
    expect(owned(stars, `access-requests/${name}b`)).toEqual(["@stars"]);
    expect(compileCodeownersPattern("?*?*?*?*?*x").match(`access-requests/${name}.yaml`)).toBe(NONE);
    expect(compileCodeownersPattern("*a*a*a*a*a*a*a*a*b*").match(`access-requests/${name}b/c.yaml`)).toBe(WILDCARD_DIR);
  });

  it("matches many `**` against a 4,096-character deep path", () => {
    const pattern = compileCodeownersPattern("**/a/**/a/**/a/**/z");
    expect(pattern.match(`${"a/".repeat(2047)}y`)).toBe(NONE);
    expect(pattern.match(`${"a/".repeat(2047)}z`)).toBe(DIRECT);
    const many = compileCodeownersPattern(`/${"**/a/".repeat(200)}**/b`);
    expect(many.match(`${"a/".repeat(2047)}c`)).toBe(NONE);
    expect(many.match(`${"a/".repeat(2047)}b`)).toBe(DIRECT);
  });
  it("does not backtrack exponentially on several `**` and a deep path", () => {
    const codeowners = parseCodeowners("**/a/**/a/**/a/**/z @deep\n");
    const start = performance.now();
    expect(ownersOf(codeowners, `${"a/".repeat(300)}y`)).toEqual([]);
    expect(owned(codeowners, `${"a/".repeat(300)}z`)).toEqual(["@deep"]);
    expect(owned(codeowners, "x/a/b/a/c/a/z/q.txt")).toEqual(["@deep"]);
    expect(ownersOf(codeowners, "a/a/z")).toEqual([]);
    expect(performance.now() - start).toBeLessThan(500);
  });

  it("matches 1,000 paths against a 500-line file quickly", () => {
    const lines = ["* @platform"];
    for (let i = 0; i < 499; i++) {
      const kind = i % 4;
      if (kind === 0) lines.push(`/services/svc-${i}/ @team-${i}`);
      else if (kind === 1) lines.push(`services/svc-${i - 1}/**/*.sql @dba-${i}`);
      else if (kind === 2) lines.push(`**/generated-${i}`);
      else lines.push(`*.ext${i} @ext-${i}`);
    }
    const codeowners = parseCodeowners(lines.join("\n"));
    expect(codeowners.errors).toEqual([]);
    expect(codeowners.rules).toHaveLength(500);
    const paths = Array.from({ length: 1000 }, (_, i) => `services/svc-${(i * 4) % 500}/deep/er/path/file-${i}.ts`);

    const start = performance.now();
    const results = paths.map((path) => ownersOf(codeowners, path));
    const elapsed = performance.now() - start;

    expect(results[0]).toEqual([{ kind: "user", login: "team-0" }]);
    expect(results[1]).toEqual([{ kind: "user", login: "team-4" }]);
    expect(owned(codeowners, "services/svc-0/a/b.sql")).toEqual(["@dba-1"]);
    expect(owned(codeowners, "unrelated/file.md")).toEqual(["@platform"]);
    expect(elapsed).toBeLessThan(1000);
  });
});
