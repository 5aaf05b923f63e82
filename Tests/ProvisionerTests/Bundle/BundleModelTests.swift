import Foundation
import XCTest
@testable import Provisioner

/// Ollama models in bundles, on this machine: which models a play needs, the model store copied into the bundle
/// with every blob's sha256 checked and recorded, update bundles, and the offline side's refusals and substitution.
final class BundleModelTests: XCTestCase {
    var scratch = ""

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("bundle-models-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch + "/project/playbooks", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(atPath: scratch) }

    /// A model in an Ollama store folder: a config blob and two layers (one shared by every model), then the manifest.
    @discardableResult
    func makeModel(_ store: String, _ name: String, _ tag: String, size: Int) throws -> [String] {
        try FileManager.default.createDirectory(atPath: store + "/blobs", withIntermediateDirectories: true)
        let blobs: [[UInt8]] = [Array("{\"model_format\":\"gguf\",\"name\":\"\(name)\"}".utf8),
                                (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ name.count) }, Array("shared license".utf8)]
        var entries: [String] = []
        for blob in blobs {
            let hex = SHA256.hex(blob)
            try Data(blob).write(to: URL(fileURLWithPath: store + "/blobs/sha256-" + hex))
            entries.append("{\"digest\":\"sha256:\(hex)\",\"size\":\(blob.count)}")
        }
        let manifest = "{\"schemaVersion\":2,\"config\":\(entries[0]),\"layers\":[\(entries[1]),\(entries[2])]}"
        let folder = store + "/manifests/registry.ollama.ai/library/" + name
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try manifest.write(toFile: folder + "/" + tag, atomically: true, encoding: .utf8)
        return blobs.map(SHA256.hex)
    }

    func writePlay(models: [String], extra: String = "") throws -> String {
        let path = scratch + "/project/playbooks/site.yml"
        try """
        - hosts: localhost
          connection: local
          gather_facts: false
          tasks:
            - name: models
              ollama_model:
                name: "{{ item }}"
                instance: ollama-a
              loop: \(models)
        \(extra)
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func provision(_ arguments: [String]) throws -> TestSupport.Result {
        try TestSupport.run(try TestSupport.provisionBinary().path, arguments)
    }

    func testNeedsAreTheRegistryPullsOfPresentModels() throws {
        let play = try writePlay(models: ["granite4", "qwen2.5-coder:7b"], extra: """
            - ollama_model: {name: "old:1", instance: ollama-a, state: absent}
            - ollama_model: {name: "local:1", instance: ollama-a, source: /srv/store}
            - ollama_model: {name: "{{ from_a_fact }}", instance: ollama-a}
        """)
        let loader = PlaybookLoader(resolveModule: { $0 }, moduleNames: ["ollama_model"])
        let needs = NetworkNeed.collect(try loader.loadPlaybook(play), extraVars: ValueDict())
        XCTAssertEqual(needs.map(\.kind), [.model("granite4:latest"), .model("qwen2.5-coder:7b"),
                                           .unresolved("its arguments depend on run-time values (facts, registered results), so the bundle cannot tell what it fetches")])
        XCTAssertTrue(needs[0].description.hasSuffix("site.yml:6:7: model granite4:latest"), needs[0].description)
    }

    func testBundleCopiesTheModelStoreWithEveryBlobVerifiedAndRecorded() throws {
        let store = scratch + "/store"
        let granite = try makeModel(store, "granite4", "latest", size: 300_000)
        let qwen = try makeModel(store, "qwen2.5-coder", "7b", size: 1000)
        try makeModel(store, "unused", "latest", size: 10)
        let play = try writePlay(models: ["granite4:latest", "qwen2.5-coder:7b"])
        let made = try provision(["bundle", play, "-o", scratch + "/bundle", "--model-store", store, "--binary", "/bin/true"])
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertTrue(made.stderr.contains("model granite4:latest: 3 blobs, 300 KB"), made.stderr)
        let manifest = try BundleManifest.load(bundle: scratch + "/bundle")
        for hex in Set(granite + qwen) {
            let entry = manifest.entries.first { $0.path == "models/blobs/sha256-" + hex }
            XCTAssertEqual(entry?.sha256, hex, "MANIFEST records blob \(hex) with its sha256")
            XCTAssertEqual(entry?.size, BundleIO.fileSize(store + "/blobs/sha256-" + hex))
        }
        let paths = manifest.entries.map(\.path)
        XCTAssertTrue(paths.contains("models/manifests/registry.ollama.ai/library/granite4/latest"), "\(paths)")
        XCTAssertEqual(paths.filter { $0.hasPrefix("models/") }.count, 2 + Set(granite + qwen).count, "only the play's models: \(paths)")
        XCTAssertEqual(try String(contentsOfFile: scratch + "/bundle/CONTENTS", encoding: .utf8),
                       "model granite4:latest\tmodels/manifests/registry.ollama.ai/library/granite4/latest\n"
                       + "model qwen2.5-coder:7b\tmodels/manifests/registry.ollama.ai/library/qwen2.5-coder/7b\n")
        XCTAssertEqual(try provision(["bundle", "verify", scratch + "/bundle"]).status, 0)
        let bundle = try OfflineBundle.open(scratch + "/bundle")
        XCTAssertEqual(bundle.models["qwen2.5-coder:7b"], "models/manifests/registry.ollama.ai/library/qwen2.5-coder/7b")
    }

    func testCorruptOrMissingModelFailsTheBundleAndWritesNothing() throws {
        let store = scratch + "/store"
        let blobs = try makeModel(store, "granite4", "latest", size: 5000)
        let play = try writePlay(models: ["granite4:latest"])
        let noStore = try provision(["bundle", play, "-o", scratch + "/b0", "--binary", "/bin/true"])
        XCTAssertNotEqual(noStore.status, 0)
        XCTAssertTrue(noStore.stderr.contains("model granite4:latest: say where the models come from: --model-store DIR"), noStore.stderr)
        // Same size, other bytes: found while copying.
        let damaged = store + "/blobs/sha256-" + blobs[1]
        var bytes = try XCTUnwrap(FileManager.default.contents(atPath: damaged))
        bytes[100] ^= 0xff
        try bytes.write(to: URL(fileURLWithPath: damaged))
        let corrupt = try provision(["bundle", play, "-o", scratch + "/b1", "--model-store", store, "--binary", "/bin/true"])
        XCTAssertNotEqual(corrupt.status, 0)
        XCTAssertTrue(corrupt.stderr.contains("Model checksum mismatch: \(damaged): its sha256 is"), corrupt.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/b1"))
        let other = try writePlay(models: ["nothere:1"])
        let missing = try provision(["bundle", other, "-o", scratch + "/b2", "--model-store", store, "--binary", "/bin/true"])
        XCTAssertTrue(missing.stderr.contains("model nothere:1 is not in the model store \(store)"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/b2"))
    }

    func testUpdateBundleHoldsOnlyItsModelsAndExpectsTheRest() throws {
        let store = scratch + "/store"
        try makeModel(store, "granite4", "latest", size: 5000)
        let extra = try makeModel(store, "extra", "1b", size: 7000)
        let play = try writePlay(models: ["granite4:latest", "extra:1b"], extra: """
            - image: {name: "docker.io/ollama/ollama:0.12.6"}
        """)
        let wrong = try provision(["bundle", play, "-o", scratch + "/u0", "--model-store", store, "--models", "other:2", "--binary", "/bin/true"])
        XCTAssertTrue(wrong.stderr.contains("--models other:2: the play pulls no such model (it pulls: extra:1b, granite4:latest)"), wrong.stderr)
        let made = try provision(["bundle", play, "-o", scratch + "/update", "--model-store", store, "--models", "extra:1b", "--binary", "/bin/true"])
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertEqual(try String(contentsOfFile: scratch + "/update/CONTENTS", encoding: .utf8),
                       "model extra:1b\tmodels/manifests/registry.ollama.ai/library/extra/1b\n"
                       + "expected image docker.io/ollama/ollama:0.12.6\nexpected model granite4:latest\n")
        let files = BundleManifest.listedFiles(in: scratch + "/update/models/blobs").sorted()
        XCTAssertEqual(files, extra.map { "sha256-" + $0 }.sorted(), "only the new model's blobs")
        let bundle = try OfflineBundle.open(scratch + "/update")
        let loader = PlaybookLoader(resolveModule: { $0 }, moduleNames: ["ollama_model", "image"])
        XCTAssertEqual(bundle.missing(NetworkNeed.collect(try loader.loadPlaybook(play), extraVars: ValueDict())), [],
                       "the expected ones are checked on the host when their task runs")
    }

    /// `--models-from`: a model the store lacks is pulled through a connected server first (the Ollama STAND-IN's
    /// server and registry, run here with python3; not Ollama), then copied from the store it pulled into.
    func testModelsFromPullsThroughAServerIntoTheStoreThenBundles() throws {
        guard let python = TestSupport.which("python3"), TestSupport.which("curl") != nil else { throw XCTSkip("python3 and curl are needed") }
        let standIn = TestSupport.packageRoot.appendingPathComponent("testhosts/ollama-standin").path
        let registryStore = scratch + "/registry", store = scratch + "/server-store"
        XCTAssertEqual(try TestSupport.run(python, [standIn + "/make-models.py", registryStore, "tiny:1b=64K"]).status, 0)
        // Two ports of this test's range (23001-23020) that nothing answers on.
        var ports: [Int] = []
        for port in 23001...23020 where ports.count < 2 {
            if try TestSupport.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "http://127.0.0.1:\(port)/"]).status != 0 { ports.append(port) }
        }
        guard ports.count == 2 else { return XCTFail("no free ports in 23001-23020") }
        var processes: [Process] = []
        defer { for process in processes { process.terminate(); process.waitUntilExit() } }
        for (arguments, environment) in [(["standin-registry", "--root", registryStore, "--listen", "127.0.0.1:\(ports[0])"], [String: String]()),
                                         (["serve"], ["OLLAMA_HOST": "127.0.0.1:\(ports[1])", "OLLAMA_MODELS": store,
                                                      "OLLAMA_STANDIN_REGISTRY": "http://127.0.0.1:\(ports[0])"])] {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [standIn + "/standin.py"] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            processes.append(process)
        }
        for _ in 0..<100 where try TestSupport.run("/usr/bin/curl", ["-fs", "-o", "/dev/null", "http://127.0.0.1:\(ports[1])/api/version"]).status != 0 { usleep(100_000) }
        let play = try writePlay(models: ["tiny:1b"])
        let made = try provision(["bundle", play, "-o", scratch + "/bundle", "--model-store", store, "--models-from", "http://127.0.0.1:\(ports[1])", "--binary", "/bin/true"])
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertTrue(made.stderr.contains("pulling tiny:1b through http://127.0.0.1:\(ports[1])"), made.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: store + "/manifests/registry.ollama.ai/library/tiny/1b"), "the server pulled it into its store")
        XCTAssertEqual(try String(contentsOfFile: scratch + "/bundle/CONTENTS", encoding: .utf8),
                       "model tiny:1b\tmodels/manifests/registry.ollama.ai/library/tiny/1b\n")
        let unknown = try writePlay(models: ["nosuch:1"])
        let failed = try provision(["bundle", unknown, "-o", scratch + "/b2", "--model-store", store, "--models-from", "http://127.0.0.1:\(ports[1])", "--binary", "/bin/true"])
        XCTAssertNotEqual(failed.status, 0)
        XCTAssertTrue(failed.stderr.contains("pulling nosuch:1 through http://127.0.0.1:\(ports[1])/api/pull failed: HTTP 500"), failed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/b2"))
        let usage = try provision(["bundle", play, "-o", scratch + "/b3", "--models-from", "http://127.0.0.1:1"])
        XCTAssertTrue(usage.stderr.contains("--models-from pulls into a server's model store"), usage.stderr)
    }

    func testOfflineMissingRefusalAndSubstitution() throws {
        let location = SourceLocation(file: "site.yml", line: 9, column: 7)
        let bundle = OfflineBundle(directory: "/media/b", models: ["granite4:latest": "models/manifests/registry.ollama.ai/library/granite4/latest"],
                                   expected: ["model old:1"])
        let needs = ["granite4:latest", "qwen2.5-coder:7b", "old:1"].map { NetworkNeed(kind: .model($0), module: "ollama_model", location: location) }
        XCTAssertEqual(bundle.missing(needs), ["site.yml:9:7: offline: model qwen2.5-coder:7b is not in the bundle"])

        let pull = Plan(changes: [Change("pull qwen2.5-coder:7b into ollama-a", actions: [])])
        let args = ModuleArguments(ValueDict([("name", "qwen2.5-coder:7b"), ("instance", "ollama-a"), ("source", "registry")]))
        XCTAssertEqual(OfflineBundle.refusal(module: "ollama_model", arguments: args, plan: pull),
                       "offline: model qwen2.5-coder:7b is not in the bundle (the host does not hold it, and it would be pulled)")
        XCTAssertNil(OfflineBundle.refusal(module: "ollama_model", arguments: args, plan: Plan()), "held already: nothing to fetch")

        let bundled = bundle.substituted(module: "ollama_model", ModuleArguments(ValueDict([("name", "granite4"), ("instance", "ollama-a"), ("source", "registry")])))
        XCTAssertEqual(bundled.string("source"), "/media/b/models")
        XCTAssertEqual(bundled.bool("remote_src"), false)
        XCTAssertEqual(bundle.substituted(module: "ollama_model", args).string("source"), "registry", "not bundled: left as written (refused if it would pull)")
        XCTAssertEqual(bundle.substituted(module: "copy", ModuleArguments(ValueDict([("source", "registry")]))).string("source"), "registry")
    }
}
