// Decides requests against IAM identity policies with @cloud-copilot/iam-simulate (a test-only
// dependency: it is AGPL-3.0 and never shipped). No AWS peer here enforces IAM, so the tests in
// tests/SpotDevBox.Tests/Deploy prove what each policy allows and refuses through this script.
//
// stdin:  {"policies": [{"name": "...", "policy": {...}}],
//          "requests": [{"id": "...", "principal": "arn:aws:iam::...", "action": "s3:GetObject",
//                        "resource": "arn:aws:s3:::bucket/key", "context": {"key": "value" | ["v1", "v2"]},
//                        "resourcePolicy": {...} (optional: the resource's own policy, e.g. a KMS key policy)}]}
// stdout: [{"id": "...", "decision": "Allowed" | "ExplicitlyDenied" | "ImplicitlyDenied" | "Error", "errors": ...}]
// Exit code 0 when every request was evaluated (whatever the decisions), 1 on bad input.
'use strict';
const path = require('path');
const { runSimulation } = require('@cloud-copilot/iam-simulate');

// iam-data lists ec2-instance-connect:OpenTunnel's one resource type (instance-connect-endpoint) twice, which the
// simulator takes for two types matching one ARN and refuses to decide ("multiple.resource.types"). The same type
// listed twice is one type: only exact duplicates (the same key) are dropped.
const resourceTypes = require(path.join(path.dirname(require.resolve('@cloud-copilot/iam-simulate')), 'simulation_engine', 'resourceTypes.js'));
const listedTypes = resourceTypes.getResourceTypesForAction;
resourceTypes.getResourceTypesForAction = async (...args) => {
  const types = await listedTypes(...args);
  return types.filter((type, i) => types.findIndex((other) => other.key === type.key) === i);
};

// iam-data defines ec2-instance-connect's condition keys but links none of them to OpenTunnel, so the simulator
// ignores them and a policy that uses one allows nothing. AWS's Service Authorization Reference lists these three
// for OpenTunnel; they are added to what the simulator accepts for that action only.
const contextKeys = require(path.join(path.dirname(require.resolve('@cloud-copilot/iam-simulate')), 'simulation_engine', 'contextKeys.js'));
const listedKeys = contextKeys.allowedContextKeysForRequest;
contextKeys.allowedContextKeysForRequest = async (service, action, ...rest) => {
  const keys = await listedKeys(service, action, ...rest);
  if (service === 'ec2-instance-connect' && action.toLowerCase() === 'opentunnel') {
    return [...keys, 'ec2-instance-connect:remoteport', 'ec2-instance-connect:privateipaddress', 'ec2-instance-connect:maxtunnelduration'];
  }
  // kms:EncryptionContext:${EncryptionContextKey} is a key with a variable part after a colon, where the simulator
  // matches variable parts only after a slash (aws:PrincipalTag/...): it would drop every encryption context key
  // from the request, so a policy testing one never sees it. The keys SpotDevBox's contexts use are added for the
  // KMS actions that take the pattern.
  return service === 'kms' && keys.includes('kms:encryptioncontext:${encryptioncontextkey}')
    ? [...keys, 'kms:encryptioncontext:spotdevbox:box', 'kms:encryptioncontext:spotdevbox:repository']
    : keys;
};

// Having let such a key through, the simulator files its value under the pattern's own name (it keeps a variable
// part only after a slash), so two encryption context keys would collide: they keep their names instead.
const contextKeyNames = require(path.join(path.dirname(require.resolve('@cloud-copilot/iam-simulate')), 'context_keys', 'contextKeys.js'));
const normalizeCase = contextKeyNames.normalizeContextKeyCase;
contextKeyNames.normalizeContextKeyCase = async (key, ...rest) => {
  const lower = key.toLowerCase();
  return lower.startsWith('kms:encryptioncontext:')
    ? 'kms:EncryptionContext:' + key.slice('kms:encryptioncontext:'.length)
    : normalizeCase(key, ...rest);
};

async function main() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  const input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  const results = [];
  for (const request of input.requests) {
    const account = /^arn:aws:(?:iam|sts)::(\d{12}):/.exec(request.principal)?.[1];
    const simulation = {
      identityPolicies: input.policies.map((p) => ({ name: p.name, policy: p.policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      // A KMS key always has a key policy, and identity policies count only where it lets the account's IAM decide.
      ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
      request: {
        principal: request.principal,
        action: request.action,
        resource: { resource: request.resource, accountId: request.resourceAccount ?? account },
        contextVariables: request.context ?? {},
      },
    };
    const response = await runSimulation(simulation, {});
    if (response.resultType === 'error') {
      results.push({ id: request.id, decision: 'Error', errors: response.errors });
    } else {
      results.push({ id: request.id, decision: response.overallResult });
    }
  }
  process.stdout.write(JSON.stringify(results) + '\n');
}

main().catch((e) => {
  process.stderr.write(`iam-evaluate: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
