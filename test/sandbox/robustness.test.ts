import { connect } from "node:net";
import { ListInstancesCommand } from "@aws-sdk/client-sso-admin";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { INSTANCE_ARN, startWorld, type World } from "./world.js";

let world: World;
beforeAll(async () => {
  world = await startWorld();
});
afterAll(() => world.close());

const JSON_TYPE = "application/x-amz-json-1.1";

async function post(headers: Record<string, string>, body: string | Uint8Array, method = "POST") {
  const response = await fetch(world.url, { method, headers, ...(method === "POST" && { body }) });
  return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), body: await response.text() };
}

const json = (target: string, body: string) => post({ "x-amz-target": target, "content-type": JSON_TYPE }, body);
const form = (body: string) => post({ "content-type": "application/x-www-form-urlencoded" }, body);

describe("bad requests", () => {
  it.each([
    ["a body that is not JSON", "SWBExternalService.ListInstances", "{not json", "SerializationException"],
    ["a JSON array", "SWBExternalService.ListInstances", "[1,2]", "SerializationException"],
    ["a member of the wrong type", "SWBExternalService.ListPermissionSets", '{"InstanceArn":5}', "SerializationException"],
    [
      "a nested member of the wrong type",
      "SWBExternalService.ListAccountAssignmentCreationStatus",
      `{"InstanceArn":"${INSTANCE_ARN}","Filter":"x"}`,
      "SerializationException",
    ],
    ["an unknown service prefix", "Nope.ListInstances", "{}", "UnknownOperationException"],
    ["an operation the simulator does not serve", "SWBExternalService.DeleteInstance", "{}", "UnknownOperationException"],
    ["an operation named after an Object property", "SWBExternalService.constructor", "{}", "UnknownOperationException"],
    ["__proto__ as operation", "AWSIdentityStore.__proto__", "{}", "UnknownOperationException"],
    ["a target without a dot", "ListInstances", "{}", "UnknownOperationException"],
    [
      "a body trying prototype pollution",
      "SWBExternalService.ListPermissionSets",
      '{"__proto__":{"InstanceArn":"x"}}',
      "ValidationException",
    ],
  ])("answer %s with HTTP 400 %s", async (_, target, body, code) => {
    const answer = await json(target, body);
    expect(answer.status).toBe(400);
    expect(answer.errorType).toBe(code);
    expect(JSON.parse(answer.body)).toEqual({ __type: code, message: expect.any(String) });
  });

  it("answer STS form bodies without or with an unknown Action in XML", async () => {
    const missing = await form("Version=2011-06-15");
    expect(missing.status).toBe(400);
    expect(missing.body).toMatch(
      /^<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>MissingAction<\/Code>/,
    );
    const unknown = await form("Action=%3Cscript%3E&Version=2011-06-15");
    expect(unknown.status).toBe(400);
    expect(unknown.body).toContain("<Code>InvalidAction</Code><Message>Unknown operation sts:&#60;script&#62;</Message>");
  });

  it("answer requests that are neither protocol, or not POST", async () => {
    expect((await post({ "content-type": "text/plain" }, "hello")).errorType).toBe("UnknownOperationException");
    expect((await post({}, "", "GET")).status).toBe(400);
  });

  it("refuse bodies over 1 MiB without holding them", async () => {
    const answer = await json("SWBExternalService.ListInstances", `{"x":"${"a".repeat(1024 * 1024)}"}`);
    expect(answer).toMatchObject({ status: 400, errorType: "SerializationException" });
  });

  it("drop malformed HTTP and keep serving", async () => {
    await new Promise<void>((resolve) => {
      const { port } = new URL(world.url);
      const socket = connect(Number(port), "127.0.0.1", () => socket.end("NOT HTTP AT ALL\r\n\r\n"));
      socket.on("data", () => undefined);
      socket.on("close", () => resolve());
    });
    const instances = await world.clients.ssoAdmin.send(new ListInstancesCommand({}));
    expect(instances.Instances).toHaveLength(1);
    expect(world.ic.calls.filter((c) => c.operation === "ListInstances").at(-1)?.outcome).toBe("ok");
  });
});
