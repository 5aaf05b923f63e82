import Foundation
import XCTest

/// The Ollama STAND-IN (testhosts/ollama-standin/, not Ollama): its image built with podman, run on this machine
/// beside its model registry (containers provision-ollama-standin-*, ports 11501 and 11502 on 127.0.0.1), and
/// checked as a real client sees it: the official Python client (`ollama` on PyPI, in the venv scripts/test.sh
/// makes), the image's own `ollama` command, and the model store on disk. Skips without podman or root unless
/// PROVISION_REQUIRE_INTEGRATION=1.
final class OllamaStandInTests: XCTestCase {
    private static var fixture: Result<OllamaStandIn, Error>?

    override func setUpWithError() throws {
        if Self.fixture == nil {
            Self.fixture = Result { try OllamaStandIn() }
        }
        _ = try standIn()
    }

    override class func tearDown() {
        if case .success(let standIn)? = fixture { standIn.stop() }
        fixture = nil
        super.tearDown()
    }

    private func standIn() throws -> OllamaStandIn {
        guard let fixture = Self.fixture else { throw OllamaStandInError("no fixture") }
        return try fixture.get()
    }

    /// The official client lists, pulls (with progress), shows, generates, chats and deletes as against Ollama,
    /// and meets Ollama's errors: a failed pull is HTTP 200 with {"error": ...} in the stream.
    func testOfficialPythonClientSeesOllamasAPI() throws {
        let standIn = try standIn()
        let venv = ProcessInfo.processInfo.environment["PROVISION_OLLAMA_CLIENT_VENV"] ?? "/tmp/provision-ollama-client-venv"
        let python = venv + "/bin/python"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            if OllamaStandIn.required { throw OllamaStandInError("\(python) is missing (scripts/test.sh installs the ollama client)") }
            throw XCTSkip("the official ollama client is not installed in \(venv) (scripts/test.sh installs it)")
        }
        let result = try TestSupport.run(python, [OllamaStandIn.folder + "/client-check.py",
                                                  "http://127.0.0.1:\(OllamaStandIn.serverPort)",
                                                  "http://127.0.0.1:\(OllamaStandIn.registryPort)", standIn.version])
        XCTAssertEqual(result.status, 0, result.stderr)
        let summary = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        XCTAssertEqual(summary?["pull_statuses"] as? [String],
                       ["pulling manifest", "pulling DIGEST", "verifying sha256 digest", "writing manifest", "success"])
        XCTAssertGreaterThanOrEqual(summary?["model_blob_progress_lines"] as? Int ?? 0, 3)
        let error = summary?["pull_error"] as? [String: Any]
        XCTAssertEqual(error?["http_status"] as? Int, 200)
        XCTAssertEqual(error?["error"] as? String, "pull model manifest: file does not exist")
    }

    /// `ollama pull` in the container transfers the registry's blobs into Ollama's store layout, each under its
    /// own sha256; `ollama list` and `show` report it; `ollama rm` removes manifest, blobs and empty folders.
    func testPullStoresVerifiedBlobsInOllamasStoreLayout() throws {
        let standIn = try standIn()
        let name = "qwen2.5-coder:7b", manifestPath = "manifests/registry.ollama.ai/library/qwen2.5-coder/7b"
        let pull = try standIn.exec(["ollama", "pull", name])
        XCTAssertEqual(pull.status, 0, pull.stderr)
        XCTAssertTrue(pull.stderr.hasSuffix("writing manifest\nsuccess\n"), pull.stderr)

        let store = standIn.scratch.appendingPathComponent("ollama/models").path
        let pulled = try Data(contentsOf: URL(fileURLWithPath: store + "/" + manifestPath))
        let served = try Data(contentsOf: URL(fileURLWithPath: standIn.models + "/" + manifestPath))
        XCTAssertEqual(pulled, served, "the stored manifest is the one the registry served")
        let layers = try OllamaStandIn.layers(of: pulled)
        XCTAssertEqual(layers.count, 5)
        for (digest, size) in layers {
            let blob = store + "/blobs/" + digest.replacingOccurrences(of: ":", with: "-")
            let attributes = try FileManager.default.attributesOfItem(atPath: blob)
            XCTAssertEqual((attributes[.size] as? NSNumber)?.intValue, size, blob)
            XCTAssertEqual(try OllamaStandIn.sha256(blob), String(digest.dropFirst(7)), "\(blob) holds what its name says")
        }
        let blobs = try FileManager.default.contentsOfDirectory(atPath: store + "/blobs")
        XCTAssertFalse(blobs.contains { $0.hasSuffix("-partial") }, "\(blobs)")

        let list = try standIn.exec(["ollama", "list"])
        let id = try String(OllamaStandIn.sha256(store + "/" + manifestPath).prefix(12))
        XCTAssertTrue(list.stdout.split(separator: "\n").contains { $0.hasPrefix(name) && $0.contains(id) && $0.contains("4.2 MB") },
                      list.stdout)
        let show = try standIn.exec(["ollama", "show", name])
        XCTAssertTrue(show.stdout.contains("architecture        qwen2"), show.stdout)
        XCTAssertTrue(show.stdout.contains("tools"), show.stdout)

        let remove = try standIn.exec(["ollama", "rm", name])
        XCTAssertEqual(remove.stdout, "deleted '\(name)'\n", remove.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store + "/manifests/registry.ollama.ai/library/qwen2.5-coder"))
        let stillReferenced = try standIn.referenced()
        for (digest, _) in layers where !stillReferenced.contains(digest) {
            XCTAssertFalse(FileManager.default.fileExists(atPath: store + "/blobs/" + digest.replacingOccurrences(of: ":", with: "-")))
        }
    }

    /// A pull that fails says why, as Ollama does, and leaves no manifest: an unknown model, a registry that
    /// serves a blob not matching its digest (the bad blob is removed), an http registry without --insecure.
    func testFailedPullsSayWhyAndLeaveNoModel() throws {
        let standIn = try standIn()
        let missing = try standIn.exec(["ollama", "pull", "no-such-model:1"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasSuffix("Error: pull model manifest: file does not exist\n"), missing.stderr)

        let corrupt = "127.0.0.1:\(OllamaStandIn.corruptPort)/library/corrupt:1"
        let plain = try standIn.exec(["ollama", "pull", corrupt])
        XCTAssertEqual(plain.status, 1)
        XCTAssertTrue(plain.stderr.contains("speaks only http"), plain.stderr)

        let mismatch = try standIn.exec(["ollama", "pull", "--insecure", corrupt])
        XCTAssertEqual(mismatch.status, 1)
        let modelDigest = try XCTUnwrap(standIn.corruptModelDigest)
        XCTAssertTrue(mismatch.stderr.contains("Error: digest mismatch, file must be downloaded again: want \(modelDigest), got sha256:"),
                      mismatch.stderr)
        let store = standIn.scratch.appendingPathComponent("ollama/models").path
        XCTAssertFalse(FileManager.default.fileExists(atPath: store + "/manifests/127.0.0.1:\(OllamaStandIn.corruptPort)"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: store + "/blobs/" + modelDigest.replacingOccurrences(of: ":", with: "-")))
        let list = try standIn.exec(["ollama", "list"])
        XCTAssertFalse(list.stdout.contains("corrupt"), list.stdout)
    }

    /// At start-up the server removes blobs no manifest references, partial downloads and empty manifest folders,
    /// as Ollama's does (a store copied without its manifests loses its blobs); OLLAMA_NOPRUNE keeps them.
    /// The server also listens where OLLAMA_HOST says.
    func testStartUpPrunesWhatNoManifestReferences() throws {
        let standIn = try standIn()
        let home = standIn.scratch.appendingPathComponent("prune").path, store = home + "/models"
        try FileManager.default.copyItem(atPath: standIn.models, toPath: store)
        let granite = try OllamaStandIn.layers(of: Data(contentsOf: URL(fileURLWithPath: store + "/manifests/registry.ollama.ai/library/granite4/latest")))
        try FileManager.default.removeItem(atPath: store + "/manifests/registry.ollama.ai/library/qwen2.5-coder")
        try FileManager.default.createDirectory(atPath: store + "/manifests/registry.ollama.ai/library/empty/",
                                                withIntermediateDirectories: true)
        let junk = "sha256-" + String(repeating: "0", count: 64)
        for extra in [junk, junk + "-partial"] {
            try Data("junk".utf8).write(to: URL(fileURLWithPath: store + "/blobs/" + extra))
        }
        let kept = Set(granite.map { "sha256-" + $0.digest.dropFirst(7) })
        let before = try FileManager.default.contentsOfDirectory(atPath: store + "/blobs")

        let noPrune = try standIn.start(OllamaStandIn.prefix + "noprune", ["--network", "none", "-v", home + ":/root/.ollama",
                                                                          "-e", "OLLAMA_NOPRUNE=1"], [])
        defer { standIn.remove([noPrune]) }
        try standIn.waitForServer(noPrune)
        standIn.remove([noPrune])
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: store + "/blobs")), Set(before))

        let prune = try standIn.start(OllamaStandIn.prefix + "prune", ["--network", "none", "-v", home + ":/root/.ollama",
                                                                      "-e", "OLLAMA_HOST=127.0.0.1:11435"], [])
        defer { standIn.remove([prune]) }
        try standIn.waitForServer(prune)
        XCTAssertEqual(Set(try FileManager.default.contentsOfDirectory(atPath: store + "/blobs")), kept)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store + "/manifests/registry.ollama.ai/library/empty"))
        let logs = try standIn.podman(["logs", prune])
        XCTAssertTrue(logs.stderr.contains("total unused blobs removed: \(before.count - kept.count - 1)"), logs.stderr)
        XCTAssertTrue(logs.stderr.contains("Listening on 127.0.0.1:11435"), logs.stderr)
        let list = try standIn.exec(["ollama", "list"], in: prune)
        XCTAssertTrue(list.stdout.contains("granite4:latest"), list.stdout)
        XCTAssertFalse(list.stdout.contains("qwen"), list.stdout)
    }

    /// The image is shaped as the official one (entrypoint /bin/ollama serve, OLLAMA_HOST=0.0.0.0:11434, no curl or
    /// wget): health checks go through `ollama`, which fails when no server answers; the archive loads as the image.
    func testImageAndHealthChecksReadLikeTheOfficialImages() throws {
        let standIn = try standIn()
        let config = try standIn.podman(["image", "inspect", "--format", "{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.Env}}",
                                         standIn.image]).stdout
        XCTAssertTrue(config.hasPrefix("[\"/bin/ollama\"] [\"serve\"] "), config)
        XCTAssertTrue(config.contains("\"OLLAMA_HOST=0.0.0.0:11434\""), config)
        XCTAssertEqual(try standIn.exec(["ollama", "--version"]).stdout, "ollama version is \(standIn.version)\n")

        let offline = ["--runtime", "runc", "--cgroup-manager=cgroupfs", "run", "--rm", "--network", "none"] + OllamaStandIn.limits
        let list = try standIn.podman(offline + [standIn.image, "list"])
        XCTAssertEqual(list.status, 1)
        XCTAssertTrue(list.stderr.hasPrefix("Error: could not connect to ollama server"), list.stderr)
        let version = try standIn.podman(offline + [standIn.image, "--version"])
        XCTAssertEqual(version.stdout, "Warning: could not connect to a running Ollama instance\nWarning: client version is \(standIn.version)\n")
        let clients = try standIn.podman(offline + ["--entrypoint", "sh", standIn.image, "-c", "for c in curl wget nc python3 sh; do command -v $c; done; true"])
        XCTAssertEqual(clients.stdout.split(separator: "\n"), ["/usr/bin/python3", "/usr/bin/sh"], "no HTTP client but ollama")

        let check = try TestSupport.run("/usr/bin/env", ["sha256sum", "-c", standIn.archive + ".sha256"],
                                        in: URL(fileURLWithPath: standIn.archive).deletingLastPathComponent())
        XCTAssertEqual(check.status, 0, check.stdout + check.stderr)
        let manifest = try TestSupport.run("/usr/bin/env", ["tar", "-xOf", standIn.archive, "manifest.json"])
        XCTAssertTrue(manifest.stdout.contains("\"\(standIn.image)\""), manifest.stdout)
    }

    /// make-models.py writes the same bytes on every run (names, sizes and digests are stable), and a model blob
    /// starts with a GGUF header of the requested size.
    func testModelGeneratorIsDeterministic() throws {
        let scratch = try Scratch()
        guard let python = TestSupport.which("python3") else { throw XCTSkip("python3 is missing") }
        var stores: [[String: Data]] = []
        for run in ["a", "b"] {
            let result = try TestSupport.run(python, [OllamaStandIn.folder + "/make-models.py", scratch.path + "/" + run, "tiny:1=64K"])
            XCTAssertEqual(result.status, 0, result.stderr)
            stores.append(try OllamaStandIn.files(under: scratch.path + "/" + run))
        }
        XCTAssertEqual(stores[0], stores[1])
        let manifest = try XCTUnwrap(stores[0]["manifests/registry.ollama.ai/library/tiny/1"])
        let model = try XCTUnwrap(OllamaStandIn.layers(of: manifest).first)
        XCTAssertEqual(model.size, 65536)
        let blob = try XCTUnwrap(stores[0]["blobs/sha256-" + model.digest.dropFirst(7)])
        XCTAssertEqual(blob.prefix(4), Data("GGUF".utf8))
    }
}

/// The stand-in as the tests run it: the image built (cached) by build-image.sh; a registry container publishing
/// 127.0.0.1:11501 (its port 11600, throttled so that progress shows) and 11502 (the server's 11434); the server
/// in the registry's network namespace with OLLAMA_STANDIN_REGISTRY=http://127.0.0.1:11600 and its /root/.ollama
/// in a scratch folder; a second registry (port 11601) serving a model whose blob does not match its digest.
/// One test run at a time holds a lock, so concurrent `swift test` runs do not fight over names and ports.
final class OllamaStandIn {
    static let folder = TestSupport.packageRoot.appendingPathComponent("testhosts/ollama-standin").path
    static let prefix = "provision-ollama-standin-"
    static let registryPort = 11501, serverPort = 11502, corruptPort = 11601
    static let limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
    static var required: Bool { ProcessInfo.processInfo.environment["PROVISION_REQUIRE_INTEGRATION"] == "1" }

    let podmanPath: String
    let image: String, archive: String, models: String, version: String
    let scratch: URL
    let registry = prefix + "registry", server = prefix + "server", corruptRegistry = prefix + "corrupt-registry"
    var corruptModelDigest: String?
    private let lock: Int32

    init() throws {
        podmanPath = try PodmanTestSupport.requirePodman()
        guard getuid() == 0 else {
            if Self.required { throw OllamaStandInError("the stand-in image is built with podman import as root") }
            throw XCTSkip("building the stand-in image needs root")
        }
        let state = ProcessInfo.processInfo.environment["PROVISION_OLLAMA_STANDIN_DIR"] ?? "/var/tmp/provision-ollama-standin"
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true)
        lock = open(state + "/test.lock", O_CREAT | O_RDWR, 0o644)
        guard lock >= 0, flock(lock, LOCK_EX) == 0 else { throw OllamaStandInError("cannot lock \(state)/test.lock") }
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("provision-ollama-standin-\(UUID().uuidString)")
        let built = try Self.build()
        (image, archive, models, version) = (built.image, built.archive, built.models, built.version)
        do {
            try FileManager.default.createDirectory(at: scratch.appendingPathComponent("ollama"), withIntermediateDirectories: true)
            remove([server, corruptRegistry, registry])
            try makeCorruptStore()
            _ = try start(registry, ["-p", "127.0.0.1:\(Self.registryPort):11600", "-p", "127.0.0.1:\(Self.serverPort):11434"],
                          ["standin-registry", "--listen", "0.0.0.0:11600", "--rate", "6000000"])
            _ = try start(corruptRegistry, ["--network", "container:" + registry, "-v", scratch.path + "/corrupt:/corrupt:ro"],
                          ["standin-registry", "--root", "/corrupt", "--listen", "127.0.0.1:\(Self.corruptPort)"])
            _ = try start(server, ["--network", "container:" + registry, "-v", scratch.path + "/ollama:/root/.ollama",
                                   "-e", "OLLAMA_STANDIN_REGISTRY=http://127.0.0.1:11600"], [])
            try waitForLog(registry, "Listening on")
            try waitForLog(corruptRegistry, "Listening on")
            try waitForServer(server)
        } catch {
            stop()
            throw error
        }
    }

    /// build-image.sh (a no-op when the image is current), and what it says it built.
    private static func build() throws -> (image: String, archive: String, models: String, version: String) {
        let build = try TestSupport.runSpawned("/bin/bash", [folder + "/build-image.sh"])
        guard build.status == 0 else { throw OllamaStandInError("build-image.sh failed: \(build.stderr)") }
        var built: [String: String] = [:]
        for line in build.stdout.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { built[parts[0]] = parts[1] }
        }
        guard let image = built["image"], let archive = built["archive"], let models = built["models"],
              let version = image.split(separator: ":").last.map(String.init) else {
            throw OllamaStandInError("build-image.sh did not say what it built: \(build.stdout)")
        }
        return (image, archive, models, version)
    }

    /// A store with one model, corrupt:1, whose model blob has one byte changed after its digest was taken.
    private func makeCorruptStore() throws {
        let root = scratch.path + "/corrupt"
        let made = try TestSupport.run("/usr/bin/python3", [Self.folder + "/make-models.py", root, "corrupt:1=256K"])
        guard made.status == 0 else { throw OllamaStandInError("make-models.py: \(made.stderr)") }
        let manifest = try Data(contentsOf: URL(fileURLWithPath: root + "/manifests/registry.ollama.ai/library/corrupt/1"))
        guard let model = try Self.layers(of: manifest).first else { throw OllamaStandInError("no model layer") }
        let blob = URL(fileURLWithPath: root + "/blobs/sha256-" + model.digest.dropFirst(7))
        var bytes = try Data(contentsOf: blob)
        bytes[bytes.count - 1] ^= 0xff
        try bytes.write(to: blob)
        corruptModelDigest = model.digest
    }

    func stop() {
        remove([server, corruptRegistry, registry])
        try? FileManager.default.removeItem(at: scratch)
        flock(lock, LOCK_UN)
        close(lock)
    }

    /// podman through posix_spawn: Foundation's Process hangs once conmon has closed the descriptors it inherited.
    @discardableResult
    func podman(_ arguments: [String]) throws -> TestSupport.Result {
        try TestSupport.runSpawned(podmanPath, arguments)
    }

    /// Starts a detached container of the image (ours by name), arguments before the image, command after it.
    func start(_ name: String, _ arguments: [String], _ command: [String]) throws -> String {
        remove([name])
        let run = ["--runtime", "runc", "--cgroup-manager=cgroupfs", "run", "-d", "--name", name] + Self.limits + arguments
        let result = try podman(run + [image] + command)
        guard result.status == 0 else { throw OllamaStandInError("podman run \(name): \(result.stderr)") }
        return name
    }

    /// Removes our containers only (by their names), dependents first.
    func remove(_ names: [String]) {
        for name in names { _ = try? podman(["rm", "-f", "-t", "1", name]) }
    }

    func exec(_ command: [String], in container: String? = nil) throws -> TestSupport.Result {
        try podman(["exec", container ?? server] + command)
    }

    /// Waits until `ollama list` answers in the container: the health check the playbook's units use.
    func waitForServer(_ container: String) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if try exec(["ollama", "list"], in: container).status == 0 { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw OllamaStandInError("\(container) did not answer: \(try podman(["logs", container]).stderr)")
    }

    func waitForLog(_ container: String, _ text: String) throws {
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if try podman(["logs", container]).stderr.contains(text) { return }
            Thread.sleep(forTimeInterval: 0.2)
        }
        throw OllamaStandInError("\(container) never logged \(text)")
    }

    /// The digests every manifest in the server's store references.
    func referenced() throws -> Set<String> {
        let manifests = scratch.appendingPathComponent("ollama/models/manifests").path
        var digests: Set<String> = []
        for (path, data) in try Self.files(under: manifests) where !path.isEmpty {
            digests.formUnion(try Self.layers(of: data).map(\.digest))
        }
        return digests
    }

    /// The layers and config of an Ollama manifest, as (digest, size), model layer first.
    static func layers(of manifest: Data) throws -> [(digest: String, size: Int)] {
        guard let object = try JSONSerialization.jsonObject(with: manifest) as? [String: Any],
              let layers = object["layers"] as? [[String: Any]], let config = object["config"] as? [String: Any] else {
            throw OllamaStandInError("not an Ollama manifest")
        }
        return try (layers + [config]).map { layer in
            guard let digest = layer["digest"] as? String, let size = layer["size"] as? Int else {
                throw OllamaStandInError("a layer without digest or size")
            }
            return (digest, size)
        }
    }

    static func sha256(_ path: String) throws -> String {
        let result = try TestSupport.run("/usr/bin/env", ["sha256sum", path])
        return String(result.stdout.prefix(64))
    }

    /// Every regular file under a folder, by relative path.
    static func files(under root: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        guard let walker = FileManager.default.enumerator(atPath: root) else { return files }
        for case let path as String in walker {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isFolder), !isFolder.boolValue {
                files[path] = try Data(contentsOf: URL(fileURLWithPath: root + "/" + path))
            }
        }
        return files
    }
}

struct OllamaStandInError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
