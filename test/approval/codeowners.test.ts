import { describe, it, expect } from "vitest";
import {
  CODEOWNERS_LOCATIONS,
  CODEOWNERS_MAX_BYTES,
  compileCodeownersPattern,
  formatCodeownersError,
  formatOwner,
  matchingRule,
  ownersOf,
  parseCodeowners,
  selectCodeownersFile,
  type Codeowners,
  type CodeownersOwner,
} from "../../src/approval/codeowners.js";

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
  // [pattern, path, matches]
  const cases: Array<[string, string, boolean]> = [
    // `*`: the default owners, every file at any depth.
    ["*", "README.md", true],
    ["*", "src/deeply/nested/file.ts", true],
    ["*", ".github/workflows/ci.yml", true],
    // `*.js`, `*.go`, `*.txt`: by extension, at any depth; `*` stays inside one name.
    ["*.js", "app.js", true],
    ["*.js", "src/components/app.js", true],
    ["*.js", "app.jsx", false],
    ["*.js", "app.js.map", false],
    ["*.go", "main.go", true],
    ["*.go", "cmd/server/main.go", true],
    ["*.txt", "notes.txt", true],
    ["*.txt", "docs/notes.txt", true],
    // `/build/logs/`: everything under build/logs at the root, at any depth.
    ["/build/logs/", "build/logs/app.log", true],
    ["/build/logs/", "build/logs/2024/01/app.log", true],
    ["/build/logs/", "build/logs", false],
    ["/build/logs/", "src/build/logs/app.log", false],
    ["/build/logs/", "build/logs-old/app.log", false],
    // `docs/*`: direct children of the root docs/ only (GitHub's documented exception).
    ["docs/*", "docs/getting-started.md", true],
    ["docs/*", "docs/build-app/troubleshooting.md", false],
    ["docs/*", "src/docs/getting-started.md", false],
    ["docs/*", "docs", false],
    // `apps/`: a directory named apps anywhere.
    ["apps/", "apps/web/index.js", true],
    ["apps/", "src/apps/index.js", true],
    ["apps/", "deeply/nested/apps/a/b/c.js", true],
    ["apps/", "apps", false],
    ["apps/", "myapps/index.js", false],
    ["apps/", "src/apps.js", false],
    // `/docs/`: the root docs/ and all its subdirectories.
    ["/docs/", "docs/getting-started.md", true],
    ["/docs/", "docs/build-app/troubleshooting.md", true],
    ["/docs/", "src/docs/getting-started.md", false],
    // `/scripts/`
    ["/scripts/", "scripts/deploy.sh", true],
    ["/scripts/", "scripts/ci/run.sh", true],
    ["/scripts/", "tools/scripts/deploy.sh", false],
    // `**/logs`: a logs directory (or file) at any depth, including the root.
    ["**/logs", "build/logs/app.log", true],
    ["**/logs", "scripts/logs/out.txt", true],
    ["**/logs", "deeply/nested/logs/x/y.txt", true],
    ["**/logs", "logs/app.log", true],
    ["**/logs", "logs", true],
    ["**/logs", "catalogs/app.log", false],
    ["**/logs", "build/logs.txt", false],
    // `/apps/github`: a literal path owns itself and everything beneath it.
    ["/apps/github", "apps/github", true],
    ["/apps/github", "apps/github/index.js", true],
    ["/apps/github", "apps/github-legacy/index.js", false],
    ["/apps/github", "x/apps/github/index.js", false],
    // `/docs` without a trailing slash still owns the directory's contents.
    ["/docs", "docs/a/b.md", true],
    ["/docs", "docs.md", false],
    // `/*`: root entries only.
    ["/*", "README.md", true],
    ["/*", "docs/a.md", false],
    // `*` never crosses `/`.
    ["/src/*.ts", "src/index.ts", true],
    ["/src/*.ts", "src/lib/index.ts", false],
    // A wildcard last segment matches at that level only, like `docs/*`.
    ["/foo/b*", "foo/bar.txt", true],
    ["/foo/b*", "foo/bar/baz.txt", false],
    // `?`: exactly one character, never `/`.
    ["f?o.md", "foo.md", true],
    ["f?o.md", "sub/fxo.md", true],
    ["f?o.md", "fo.md", false],
    ["f?o.md", "fooo.md", false],
    ["/a?b", "a/b", false],
    // `**` in the middle: zero or more directories.
    ["docs/**/index.md", "docs/index.md", true],
    ["docs/**/index.md", "docs/a/b/c/index.md", true],
    ["docs/**/index.md", "docs/a/readme.md", false],
    ["docs/**/index.md", "site/docs/index.md", false],
    ["/src/**/Permissions/", "src/a/b/Permissions/x.al", true],
    ["/src/**/Permissions/", "src/Permissions/x.al", true],
    ["/src/**/test/**/*.snap", "src/a/test/b/c/x.snap", true],
    ["/src/**/test/**/*.snap", "src/test/x.snap", true],
    ["/src/**/test/**/*.snap", "src/a/b/x.snap", false],
    // `a/**`: everything inside a, but not a itself.
    ["a/**", "a/b", true],
    ["a/**", "a/b/c/d", true],
    ["a/**", "a", false],
    ["a/**", "b/a/c", false],
    // A slash in the middle anchors to the root; none means any depth.
    ["src/lib", "src/lib/util.ts", true],
    ["src/lib", "packages/x/src/lib/util.ts", false],
    ["logs", "logs", true],
    ["logs", "a/b/logs/c.txt", true],
    ["logs", "a/logs.txt", false],
    // Case-sensitive, like GitHub's file system.
    ["/Docs/", "docs/a.md", false],
    ["*.md", "README.MD", false],
    ["*.md", "README.md", true],
    // Escapes GitHub accepts: a space and literal brackets.
    ["/My\\ Docs/", "My Docs/guide.md", true],
    ["/My\\ Docs/", "My/guide.md", false],
    ["/pages/\\[id\\].tsx", "pages/[id].tsx", true],
    ["/pages/\\[id\\].tsx", "pages/i.tsx", false],
    // Regex metacharacters are literal.
    ["/a+b(c).txt", "a+b(c).txt", true],
    ["/a+b(c).txt", "aab(c)xtxt", false],
  ];

  it.each(cases)("%s against %s -> %s", (pattern, path, expected) => {
    const codeowners = parseCodeowners(`${pattern} @owner`);
    expect(codeowners.errors).toEqual([]);
    expect(matchingRule(codeowners, path) !== undefined).toBe(expected);
  });

  it("has the cases this suite promises", () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
  });

  it("compiles a pattern once, to one RegExp", () => {
    expect(compileCodeownersPattern("docs/*").test("docs/a.md")).toBe(true);
    expect(() => compileCodeownersPattern("!docs/")).toThrow('"!docs/" uses negation ("!")');
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
  });

  it("un-owns /apps/github when its line has no owners", () => {
    const upToLine59 = parseCodeowners(GITHUB_EXAMPLE.split("\n").slice(0, 59).join("\n"));
    expect(upToLine59.errors).toEqual([]);
    expect(matchingRule(upToLine59, "apps/github/index.js")).toEqual({ line: 59, pattern: "/apps/github", owners: [] });
    expect(ownersOf(upToLine59, "apps/github/index.js")).toEqual([]);
    expect(owned(upToLine59, "apps/web/index.js")).toEqual(["@octocat"]);
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
    [
      "\\#notes.md @alice",
      '"\\#notes.md" escapes "#" with a backslash, which CODEOWNERS does not support; GitHub ignores this line',
    ],
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
