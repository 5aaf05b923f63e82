import Foundation
import XCTest
@testable import Modules
@testable import Provisioner

/// ollama_model as "observed state in, plan out": what the instance lists (over its port or through
/// `podman exec`), what the source folder holds, and what follows: nothing, a pull (steps that follow it),
/// an import (staged, checked, copied), a removal, a wait, or a refusal.
final class OllamaModelModuleTests: XCTestCase {
    typealias F = ModuleFixture

    func module(_ pairs: KeyValuePairs<String, Value>) throws -> OllamaModelModule { try F.make(OllamaModelModule.self, pairs) }

    let granite: KeyValuePairs<String, Value> = ["name": "granite4:latest", "instance": "ollama-granite4", "port": 55077,
                                                  "scope": "user", "user": "ollama"]

    /// What the listing script prints for GET /api/tags answered with these models.
    func api(_ models: [(String, String)]) -> CommandOutput {
        let body = try! JSONSerialization.data(withJSONObject: ["models": models.map { ["name": $0.0, "model": $0.0, "digest": $0.1, "size": 3146647] }])
        return F.ok("api\nHTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n\r\n" + String(decoding: body, as: UTF8.self) + "\n")
    }

    func plan(_ module: OllamaModelModule, _ listing: CommandOutput, files: [String: FileState] = [:],
              context: ModuleContext = ModuleContext()) throws -> Plan {
        try F.plan(module, files: files, commands: [module.listing.argv: listing], context: context)
    }

    // MARK: Names and listings

    func testNamesAreParsedAndMatchedAsOllamaDoes() throws {
        XCTAssertEqual(OllamaModelName("granite4")?.shortest, "granite4:latest")
        XCTAssertEqual(OllamaModelName("qwen2.5-coder:7b")?.manifestPath, "registry.ollama.ai/library/qwen2.5-coder/7b")
        XCTAssertEqual(OllamaModelName("alice/tiny:q4")?.shortest, "alice/tiny:q4")
        XCTAssertEqual(OllamaModelName("mirror.example:5000/team/m:1")?.manifestPath, "mirror.example:5000/team/m/1")
        XCTAssertTrue(try XCTUnwrap(OllamaModelName("Granite4:Latest")).matches(try XCTUnwrap(OllamaModelName("granite4"))))
        for bad in ["", "../x", "a/../b", "a b", "a:b:c", "a/b/c/d", ":tag", "-x", "x:"] {
            XCTAssertNil(OllamaModelName(bad), bad)
        }
    }

    func testListingsFromTheAPIFromTheCLIAndTheirFailures() {
        let digest = String(repeating: "e2", count: 32)
        XCTAssertEqual(OllamaInstance.parseListing(api([("granite4:latest", digest)])),
                       .answering([.init(name: OllamaModelName("granite4")!, digest: digest, size: 3146647)]))
        let table = "exec 0\nNAME                ID              SIZE      MODIFIED\nqwen2.5-coder:7b    70d9272203f3    4.2 MB    2 minutes ago\n"
        XCTAssertEqual(OllamaInstance.parseListing(F.ok(table)), .answering([.init(name: OllamaModelName("qwen2.5-coder:7b")!, digest: "70d9272203f3")]))
        XCTAssertEqual(OllamaInstance.parseListing(F.ok("exec 0\nNAME    ID    SIZE    MODIFIED\n")), .answering([]))
        guard case .absent = OllamaInstance.parseListing(F.ok("exec 125\nError: no container with name or ID \"x\" found: no such container\n")) else {
            return XCTFail("no such container is an absent instance")
        }
        guard case .down = OllamaInstance.parseListing(F.ok("exec 1\nError: could not connect to ollama server, run 'ollama serve' to start it\n")) else {
            return XCTFail("a server that does not answer is down")
        }
        guard case .down = OllamaInstance.parseListing(F.ok("exec 125\nError: can only exec into running containers\n")) else {
            return XCTFail("a stopped container is down")
        }
        XCTAssertEqual(OllamaInstance.parseListing(F.ok("nopodman\n")), .podmanMissing)
        XCTAssertEqual(OllamaInstance.parseListing(F.ok("nouser\n")), .userMissing)
        guard case .failed = OllamaInstance.parseListing(F.ok("api\nHTTP/1.1 200 OK\r\n\r\n<html>not ollama</html>")) else {
            return XCTFail("an answer that is not Ollama's JSON is a failure")
        }
    }

    func testTheObservationIsOneCommandPerInstanceWithThePortOrWithout() throws {
        let viaPort = try module(granite)
        XCTAssertEqual(viaPort.observations(ModuleContext()), [viaPort.listing])
        XCTAssertEqual(Array(viaPort.listing.argv.suffix(4)), ["ollama-granite4", "127.0.0.1", "55077", "ollama"])
        let other = try module(["name": "other:1", "instance": "ollama-granite4", "port": 55077, "scope": "user", "user": "ollama"])
        XCTAssertEqual(other.listing, viaPort.listing, "every model of an instance shares its one listing")
        let viaExec = try module(["name": "granite4", "instance": "ollama-granite4"])
        XCTAssertEqual(Array(viaExec.listing.argv.suffix(4)), ["ollama-granite4", "127.0.0.1", "", ""])
    }

    /// The listing script itself, against a real HTTP server on this machine (python3's http.server answering
    /// api/tags from a folder, HTTP/1.0 as the script asks): the API's answer whole (CRLFs kept), and where
    /// nothing listens, not "api" but podman's way.
    func testTheListingScriptReadsTheAPIOrFallsBackToPodman() throws {
        guard let python = TestSupport.which("python3"), TestSupport.which("bash") != nil else { throw XCTSkip("needs python3 and bash") }
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("provision-tags-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("api"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let body = #"{"models":[{"name":"granite4:latest","model":"granite4:latest","digest":"\#(String(repeating: "ab", count: 32))","size":7}]}"#
        try Data(body.utf8).write(to: root.appendingPathComponent("api/tags"))
        let server = Process()
        server.executableURL = URL(fileURLWithPath: python)
        server.arguments = ["-c", "import functools, http.server, sys\n"
                            + "s = http.server.HTTPServer(('127.0.0.1', 0), functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1]))\n"
                            + "print(s.server_port, flush=True)\ns.serve_forever()", root.path]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        let port = try XCTUnwrap(Int(String(decoding: line, as: UTF8.self)), "the server's port")

        let answered = try module(["name": "granite4", "instance": "ollama-granite4", "port": .int(port)]).listing.argv
        let result = try TestSupport.run(answered[0], Array(answered.dropFirst()))
        XCTAssertTrue(result.stdout.hasPrefix("api\nHTTP/1.0 200 OK\r\n"), result.stdout)
        XCTAssertTrue(result.stdout.hasSuffix("\r\n\r\n" + body + "\n"), result.stdout)
        guard case .answering(let listed) = OllamaInstance.parseListing(CommandOutput(status: result.status, stdout: result.stdout)) else {
            return XCTFail(result.stdout)
        }
        XCTAssertEqual(listed.map(\.name), [try XCTUnwrap(OllamaModelName("granite4:latest"))])

        server.terminate()
        server.waitUntilExit()
        let refused = try TestSupport.run(answered[0], Array(answered.dropFirst()))
        XCTAssertEqual(refused.status, 0)
        XCTAssertFalse(refused.stdout.hasPrefix("api"), refused.stdout)
        XCTAssertTrue(refused.stdout.hasPrefix("nopodman\n") || refused.stdout.hasPrefix("exec "), refused.stdout)
    }

    // MARK: Pulls

    func testAListedModelIsLeftAloneAndAMissingOneIsPulledWithProgress() throws {
        let module = try self.module(granite)
        let converged = try plan(module, api([("granite4:latest", String(repeating: "a", count: 64))]))
        XCTAssertEqual(converged.summaries, [])
        XCTAssertTrue(converged.steps.isEmpty, "a converged host does not pull")
        XCTAssertEqual(converged.result["digest"]?.string, String(repeating: "a", count: 64))

        let missing = try plan(module, api([("qwen2.5-coder:7b", String(repeating: "b", count: 64))]))
        XCTAssertEqual(missing.summaries, ["pull granite4:latest into ollama-granite4"])
        XCTAssertEqual(missing.steps.count, 1)
        let start = try XCTUnwrap(missing.steps.first)
        XCTAssertEqual(Array(start.command.argv.suffix(4)), [module.pullKey, "ollama-granite4", "granite4:latest", "ollama"])
        let started = start.interpret(StepRun(output: F.ok("started 4242\n")))
        let poll = try XCTUnwrap(started.next.first)
        XCTAssertEqual(poll.poll?.timeout, 3600)

        let log = "pulling manifest\n\u{1B}[?25lpulling 787bcdc7e825:  45% \u{1B}[K\rpulling 787bcdc7e825:  90%\u{1B}[K"
        let running = poll.interpret(StepRun(output: F.ok("running\n" + Data(log.utf8).base64EncodedString() + "\n"), isLast: false))
        XCTAssertFalse(running.satisfied)
        XCTAssertNil(running.failure)
        XCTAssertEqual(running.progress, "pulling 787bcdc7e825:  90%")

        let done = poll.interpret(StepRun(output: F.ok("rc 0\n" + Data("pulling manifest\nsuccess\n".utf8).base64EncodedString() + "\n")))
        XCTAssertTrue(done.satisfied && done.changed)
        XCTAssertEqual(done.result["status_lines"], .list(["pulling manifest", "success"]))

        let failed = poll.interpret(StepRun(output: F.ok("rc 1\n" + Data("pulling manifest\nError: pull model manifest: file does not exist\n".utf8).base64EncodedString())))
        XCTAssertEqual(failed.failure, "pulling granite4:latest into ollama-granite4 failed: pull model manifest: file does not exist")
        let gone = poll.interpret(StepRun(output: F.ok("gone\n\n")))
        XCTAssertEqual(gone.failure, "pulling granite4:latest into ollama-granite4 failed: it ended without a result (did ollama-granite4 restart?)")
        let late = poll.interpret(StepRun(output: F.ok("running\n\n"), isLast: true))
        XCTAssertTrue(late.failure?.contains("still being pulled into ollama-granite4 after 3600 s") == true, late.failure ?? "")
    }

    func testAFreshHostPlansInCheckModeAndRefusesOrWaitsWhenApplying() throws {
        let module = try self.module(granite)
        let check = ModuleContext(checkMode: true)
        XCTAssertEqual(try plan(module, F.ok("nouser\n"), context: check).summaries,
                       ["pull granite4:latest into ollama-granite4 (there is no user ollama yet)"])
        XCTAssertEqual(try plan(module, F.ok("nopodman\n"), context: check).summaries,
                       ["pull granite4:latest into ollama-granite4 (podman is not installed yet)"])
        XCTAssertEqual(try plan(module, F.ok("nopodman\n")).failure, "cannot put granite4:latest into ollama-granite4: podman is not installed")
        let absent = try plan(module, F.ok("exec 125\nError: no such container\n"))
        XCTAssertEqual(absent.failure, "cannot put granite4:latest into ollama-granite4: there is no container ollama-granite4 in ollama's podman"
                       + ": start its quadlet first (quadlet with started: true)")
        // Running but not answering yet: wait, then pull what is still missing.
        let starting = try plan(module, F.ok("exec 1\nError: could not connect to ollama server\n"))
        XCTAssertEqual(starting.summaries, [])
        let wait = try XCTUnwrap(starting.steps.first)
        XCTAssertEqual(wait.poll?.timeout, 120)
        XCTAssertEqual(wait.command.argv, module.listing.argv)
        XCTAssertFalse(wait.interpret(StepRun(output: F.ok("exec 1\nError: could not connect\n"), isLast: false)).satisfied)
        XCTAssertEqual(wait.interpret(StepRun(output: api([("granite4:latest", "ab")]))).next.count, 0, "listed meanwhile: nothing to pull")
        XCTAssertEqual(wait.interpret(StepRun(output: api([]))).next.first?.summary, "pull granite4:latest into ollama-granite4")
    }

    func testRemoval() throws {
        let module = try self.module(["name": "granite4", "instance": "ollama-granite4", "state": "absent", "scope": "user", "user": "ollama"])
        let listed = try plan(module, F.ok("exec 0\nNAME ID SIZE MODIFIED\ngranite4:latest e290217e0336 3.1 MB now\n"))
        XCTAssertEqual(listed.summaries, ["remove granite4:latest from ollama-granite4"])
        guard case .run(let command)? = listed.actions.first else { return XCTFail("\(listed.actions)") }
        XCTAssertEqual(Array(command.argv.suffix(5)), ["exec", "ollama-granite4", "ollama", "rm", "granite4:latest"])
        XCTAssertEqual(command.label, "as ollama: podman exec ollama-granite4 ollama rm granite4:latest")
        XCTAssertEqual(try plan(module, F.ok("exec 0\nNAME ID SIZE MODIFIED\n")).summaries, [])
        XCTAssertEqual(try plan(module, F.ok("exec 125\nError: no such container\n")).summaries, [], "no instance holds no model")
        XCTAssertNotNil(try plan(module, F.ok("exec 1\nError: could not connect\n")).failure, "a server that does not answer cannot tell")
    }

    // MARK: Imports

    /// A model store folder with one model (a config and two layers), as make-models.py writes them.
    func store(corrupt: Bool = false, drop: Bool = false) throws -> (Scratch, OllamaManifest) {
        let scratch = try Scratch()
        let blobs = ["config": Array("{\"model_format\":\"gguf\"}".utf8), "model": Array(repeating: UInt8(7), count: 5000),
                     "license": Array("stand-in license\n".utf8)]
        var entries: [String: [String: Any]] = [:]
        try FileManager.default.createDirectory(at: scratch.root.appendingPathComponent("blobs"), withIntermediateDirectories: true)
        for (name, bytes) in blobs {
            let hex = SHA256.hex(bytes)
            entries[name] = ["digest": "sha256:" + hex, "size": bytes.count, "mediaType": "application/vnd.ollama.image.\(name)"]
            if drop && name == "license" { continue }
            try Data(corrupt && name == "model" ? bytes.dropLast() + [8] : bytes).write(to: scratch.root.appendingPathComponent("blobs/sha256-" + hex))
        }
        let manifest = try JSONSerialization.data(withJSONObject: ["schemaVersion": 2, "config": entries["config"]!,
                                                                   "layers": [entries["model"]!, entries["license"]!]], options: [.sortedKeys])
        try scratch.write("manifests/registry.ollama.ai/library/tiny/1", String(decoding: manifest, as: UTF8.self))
        return (scratch, try OllamaManifest(Array(manifest), path: "manifest"))
    }

    func readFiles(_ root: String) -> ModuleContext {
        ModuleContext(readControllerFile: { path, _ in
            guard let data = FileManager.default.contents(atPath: path) else { throw ModuleError("\(path) does not exist") }
            return [UInt8](data)
        })
    }

    func testAFolderIsImportedWholeOnceEachBlobMatchesItsDigest() throws {
        let (scratch, manifest) = try store()
        defer { scratch.remove() }
        let module = try self.module(["name": "tiny:1", "instance": "ollama-a", "source": .string(scratch.path), "scope": "user", "user": "ollama"])
        XCTAssertEqual(module.controllerFiles.map(\.path), [scratch.path + "/manifests/registry.ollama.ai/library/tiny/1"])
        let context = readFiles(scratch.path)
        let missing = try plan(module, F.ok("exec 0\nNAME ID SIZE MODIFIED\n"), context: context)
        XCTAssertEqual(missing.summaries, ["import tiny:1 into ollama-a from \(scratch.path): 3 blobs, 5.0 KB, sha256 verified"])
        let stage = "/var/tmp/.provision-ollama-import-" + module.pullKey
        let writes = missing.actions.compactMap { action -> String? in
            if case .writeFile(let path, _, let attributes, _) = action, attributes.mode == 0o600 { return path } else { return nil }
        }
        XCTAssertEqual(Set(writes), Set(manifest.blobs.map { stage + "/blobs/" + $0.file } + [stage + "/manifests/registry.ollama.ai/library/tiny/1"]))
        guard case .run(let run)? = missing.actions.last else { return XCTFail("the import runs last: \(missing.actions)") }
        XCTAssertEqual(Array(run.argv[4...10]), ["ollama-a", stage, "registry.ollama.ai/library/tiny/1", "1", "ollama", "3", manifest.blobs[0].hex])
        XCTAssertEqual(run.argv.last, String(manifest.bytes.count))
        XCTAssertEqual(missing.result["source_digest"]?.string, manifest.digest)

        // Listed with the source's digest: nothing to do; with another: replaced.
        let same = try plan(module, F.ok("exec 0\nNAME ID\ntiny:1 \(manifest.digest.prefix(12))\n"), context: context)
        XCTAssertEqual(same.summaries, [])
        let older = try plan(module, F.ok("exec 0\nNAME ID\ntiny:1 0123456789ab\n"), context: context)
        XCTAssertEqual(older.summaries.first?.hasPrefix("import tiny:1 into ollama-a from \(scratch.path) (ollama-a has 0123456789ab, the source \(manifest.digest.prefix(12)))"), true,
                       older.summaries.first ?? "")
    }

    func testADamagedOrIncompleteFolderIsRefusedBeforeAnythingChanges() throws {
        let listing = F.ok("exec 0\nNAME ID SIZE MODIFIED\n")
        let (damaged, _) = try store(corrupt: true)
        defer { damaged.remove() }
        let module = try self.module(["name": "tiny:1", "instance": "ollama-a", "source": .string(damaged.path)])
        let refused = try plan(module, listing, context: readFiles(damaged.path))
        XCTAssertTrue(refused.failure?.contains("does not match its digest") == true && refused.changes.isEmpty, "\(refused.failure ?? "")")
        let inCheck = try plan(module, listing, context: { var c = readFiles(damaged.path); c.checkMode = true; return c }())
        XCTAssertNotNil(inCheck.failure, "check mode refuses it too")

        let (incomplete, _) = try store(drop: true)
        defer { incomplete.remove() }
        let partial = try self.module(["name": "tiny:1", "instance": "ollama-a", "source": .string(incomplete.path)])
        XCTAssertThrowsError(try plan(partial, listing, context: readFiles(incomplete.path))) { XCTAssertTrue("\($0)".contains("does not exist"), "\($0)") }
    }

    func testAFolderOnTheHostIsCheckedThereAndNotCopied() throws {
        let (scratch, manifest) = try store()
        defer { scratch.remove() }
        let module = try self.module(["name": "tiny:1", "instance": "ollama-a", "source": "/srv/models", "remote_src": true])
        let path = "/srv/models/manifests/registry.ollama.ai/library/tiny/1"
        XCTAssertEqual(module.observations(ModuleContext()), [module.listing, .file(path: path, content: true)])
        let text = String(decoding: manifest.bytes, as: UTF8.self)
        let plan = try self.plan(module, F.ok("exec 0\nNAME ID\n"), files: [path: F.file(text)])
        guard plan.actions.count == 1, case .run(let run)? = plan.actions.first else { return XCTFail("one command, no copies: \(plan.actions)") }
        XCTAssertEqual(Array(run.argv[4...7]), ["ollama-a", "/srv/models", "registry.ollama.ai/library/tiny/1", "0"])
        XCTAssertThrowsError(try self.plan(module, F.ok("exec 0\nNAME ID\n"))) { XCTAssertTrue("\($0)".contains("does not exist on the host"), "\($0)") }
    }

    // MARK: Arguments

    func testArgumentsAreRefusedBeforeAnyHost() {
        for port in [66044, 0, 70000] {
            XCTAssertThrowsError(try module(["name": "granite4", "instance": "ollama-granite4", "port": .int(port)])) {
                XCTAssertTrue("\($0)".contains("port \(port) is out of range (1-65535)"), "\($0)")
            }
        }
        for (pairs, message) in [(["name": "a b", "instance": "x"], "is not an Ollama model name"),
                                 (["name": "granite4", "instance": "-x"], "is not a container name"),
                                 (["name": "granite4", "instance": "x", "state": "absent", "source": "/srv/m"], "state: absent takes no source"),
                                 (["name": "granite4", "instance": "x", "remote_src": true], "remote_src: true needs source"),
                                 (["name": "granite4", "instance": "x", "source": "models", "remote_src": true], "must be an absolute path"),
                                 (["name": "granite4", "instance": "x", "address": "1.2.3.4; rm -rf /"], "is not an address"),
                                 (["name": "granite4", "instance": "x", "user": "ollama"], "user: is for scope: user")] as [(KeyValuePairs<String, Value>, String)] {
            XCTAssertThrowsError(try module(pairs)) { XCTAssertTrue("\($0)".contains(message), "\($0) should say \(message)") }
        }
    }

    func testTerminalEscapesAndRepaintsLeaveTheLastStateOfEachLine() {
        XCTAssertEqual(OllamaInstance.logLines("pulling manifest\r\n\u{1B}[?25l\u{1B}[2Kpulling a: 10%\rpulling a: 100% \u{1B}[K\n\u{1B}[?25hsuccess\n"),
                       ["pulling manifest", "pulling a: 100%", "success"])
    }
}
