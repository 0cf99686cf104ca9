'use strict';
// The CloudFormation validation engine that aws-cdk-lib bundles (@aws/cloudformation-validate), in a Node.js
// process of its own: eks_ai_data.concurrent_validation starts it when the app starts, so that the engine's
// start-up (seconds of WebAssembly work) runs on another core while the app builds its construct tree.
//
// argv[2]: a folder holding aws-cdk-lib's copy of the engine (node_modules/@aws/cloudformation-validate) and its
// default rules (core/lib/validation/rules/*.rego), extracted from the aws-cdk-lib package the app runs.
// Protocol: one JSON object per line. The worker writes {"ready": true, "version": ..., "ruleIds": [...]} once
// the engine is built (or {"error": ...}), then answers each request line {"templatePath", "options"} with
// {"diagnostics": [...]} (or {"error": ...}). It exits when its standard input closes.
// WebAssembly compiled by V8's baseline compiler only: the engine's work here is one start-up and a few templates,
// for which the optimizing tier's background compilation costs more CPU (on a core the app needs) and about 190 MB
// more memory than it saves (measured: 5.7 s CPU and 266 MB instead of 9.5 s and 458 MB for the reference app's
// templates; with V8's --single-threaded, which eks_ai_data.concurrent_validation gives the worker, the engine is
// built in 1.5 s instead of 2.1 s). The program's semantics do not depend on the tier; V8 ignores a flag it does
// not know.
require('v8').setFlagsFromString('--liftoff-only');
const fs = require('fs');
const path = require('path');
const readline = require('readline');

function send(message) {
  process.stdout.write(JSON.stringify(message) + '\n');
}

function describe(error) {
  return error && error.stack ? String(error.stack) : String(error);
}

let engine;
let cv;
try {
  const root = process.argv[2];
  cv = require(path.join(root, 'node_modules', '@aws', 'cloudformation-validate'));
  // The rules aws-cdk-lib adds to the engine's own (aws-cdk-lib core/lib/validation/cloudformation-validate-plugin.ts,
  // defaultRegoRules: every .rego file of the rules folder, sorted by name).
  const rulesDir = path.join(root, 'core', 'lib', 'validation', 'rules');
  const regoRules = fs
    .readdirSync(rulesDir)
    .filter((f) => f.endsWith('.rego'))
    .sort()
    .map((f) => ({ name: f, content: fs.readFileSync(path.join(rulesDir, f), 'utf-8') }));
  engine = new cv.CompositeEngine(regoRules.length > 0 ? { regoRules } : {});
  send({
    ready: true,
    version: cv.version(),
    rules: engine.listRules().map((r) => ({ id: r.id, severity: r.severity })),
  });
} catch (error) {
  send({ error: describe(error) });
}

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on('line', (line) => {
  if (!line.trim()) {
    return;
  }
  try {
    const request = JSON.parse(line);
    if (!engine) {
      throw new Error('the validation engine did not start');
    }
    const report = engine.validateTemplate(new cv.TemplateFile(request.templatePath), request.options);
    send({
      diagnostics: report.diagnostics.map((d) => ({
        ruleId: d.ruleId,
        severity: d.severity,
        message: d.message,
        propertyPath: d.propertyPath,
        entityType: d.entity ? d.entity.entityType : undefined,
        logicalId: d.entity ? d.entity.logicalId : undefined,
        suggestedFix: d.suggestedFix,
        category: d.category,
      })),
    });
  } catch (error) {
    send({ error: describe(error) });
  }
});
lines.on('close', () => {
  if (engine) {
    engine.free();
  }
  process.exit(0);
});
