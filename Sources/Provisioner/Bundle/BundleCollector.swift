import Foundation

/// `provision bundle PLAYBOOK -o DIR` on a connected machine: the play, its roles, inventory and vars,
/// the provision binary, the images it pulls (`podman save`) and the files it downloads (checked
/// against their checksums), a CONTENTS index, `install.sh` and the MANIFEST.
public struct BundleCollector {
    public static let projectFolder = "project"

    public var playbookPath: String
    public var inventories: [String] = []
    public var extraVars = ValueDict()
    /// The provision executable to ship (a static build); default: the one running.
    public var binary: String?
    /// `--packages-for debian:13`: the release the play's packages are resolved for; default: this machine's.
    public var packagesFor: String?
    public var loader: PlaybookLoader
    /// `--model-store DIR`: an Ollama model store (manifests/, blobs/) the play's models are copied from.
    public var modelStore: String?
    /// `--models-from URL`: an Ollama server whose store is `modelStore`; a model the store lacks is pulled
    /// through it first (POST /api/pull).
    public var modelsFrom: String?
    /// `--models NAME`: an update bundle holding only these models; what else the play fetches (images,
    /// downloads, other models) is expected on the host already (CONTENTS `expected` lines).
    public var onlyModels: [String]?
    public var progress: (String) -> Void = { ProvisionCommand.printError($0) }

    public init(playbookPath: String, loader: PlaybookLoader) {
        self.playbookPath = URL(fileURLWithPath: playbookPath).standardizedFileURL.path
        self.loader = loader
    }

    static func runningBinary() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// Builds the bundle into `output`; returns the MANIFEST written.
    @discardableResult
    public func write(to output: String) throws -> BundleManifest {
        let playbook = try loader.loadPlaybook(playbookPath)
        let playDirectory = (playbookPath as NSString).deletingLastPathComponent
        let needs = NetworkNeed.collect(playbook, extraVars: extraVars)
        var problems: [String] = []
        let played = Set(needs.compactMap { if case .model(let name) = $0.kind { return name } else { return nil } })
        let selected = try onlyModels.map { names in
            try Set(names.map { text -> String in
                guard let name = OllamaModelName(text) else { throw BundleError("--models \(text): not an Ollama model name (MODEL:TAG)") }
                return name.shortest
            })
        }
        for name in (selected ?? []).sorted() where !played.contains(name) {
            problems.append("--models \(name): the play pulls no such model (it pulls: \(played.sorted().joined(separator: ", ")))")
        }
        /// Whether the bundle carries what `need` fetches (an update bundle carries only its models).
        func carried(_ need: NetworkNeed) -> Bool {
            guard let selected else { return true }
            if case .model(let name) = need.kind { return selected.contains(name) }
            return false
        }
        var expected: Set<String> = []
        for need in needs {
            if !carried(need) {
                switch need.kind {
                case .image(let name): expected.insert("image \(name)"); continue
                case .url(let url, _): expected.insert("url \(url)"); continue
                case .model(let name): expected.insert("model \(name)"); continue
                case .packages(let names, _): expected.formUnion(names.map { "package \($0)" }); continue
                default: break
                }
            }
            switch need.kind {
            case .model(let name) where OllamaModelName(name) == nil:
                problems.append("\(need): not an Ollama model name, so it cannot be bundled")
            case .model where modelStore == nil:
                problems.append("\(need): say where the models come from: --model-store DIR (an Ollama model store: manifests/, blobs/; "
                                + "~/.ollama/models, or a server's OLLAMA_MODELS), with --models-from URL to pull what it lacks through that server")
            case .unresolved where need.isUnresolvedUnitImage:
                progress("warning: \(need.location): \(need.module): its image depends on run-time values and is not bundled from here; an image task (bundled) or the host must provide it")
            case .unbundleable, .unresolved: problems.append("\(need): it cannot be bundled")
            case .url(let url, let checksum?) where !checksum.hasPrefix("sha256:") || checksum.dropFirst(7).contains(":"):
                problems.append("\(need.location): \(url): checksum '\(checksum)': provision bundle verifies sha256:HEX checksums only")
            default: break
            }
        }
        for role in roles(of: playbook) where !role.hasPrefix(playDirectory + "/") {
            problems.append("role at \(role) is outside the playbook's folder \(playDirectory): roles from roles_path are not bundled yet; move it beside the playbook (roles/)")
        }
        guard problems.isEmpty else { throw BundleError(problems.joined(separator: "\n") + "\n\(problems.count) problem(s): no bundle was written") }

        try BundleIO.makeParent(of: output)
        let staging = try BundleIO.temporaryDirectory(beside: output + ".staging")
        defer { try? FileManager.default.removeItem(atPath: staging) }
        var writer = BundleWriter()
        writer.progress = progress
        var images: [String: String] = [:]
        var urls: [String: String] = [:]
        var packages: (target: PackageTarget, list: String)?
        let requests = packageRequests(needs.filter(carried))
        if !requests.isEmpty {
            let machine = try? PackageTarget.connectedMachine()
            let target = try packagesFor.map { try PackageTarget.parse($0, architecture: try PackageTarget.dpkgArchitecture()) }
                ?? PackageTarget.connectedMachine()
            let foreign = machine.map { $0.distribution != target.distribution || $0.codename != target.codename } ?? true
            let collector = PackageCollector(target: target, foreignRelease: foreign, progress: progress)
            let repository = try collector.collect(requests, staging: staging)
            for file in try FileManager.default.contentsOfDirectory(atPath: repository).sorted() {
                try writer.add(path: PackageCollector.folder + "/" + file, file: repository + "/" + file, mode: 0o644)
            }
            packages = (target, PackageCollector.folder + "/Packages")
        }
        var models: [String: String] = [:]
        for need in needs where carried(need) {
            switch need.kind {
            case .model(let text) where models[text] == nil:
                guard let name = OllamaModelName(text), let store = modelStore else { continue }
                models[text] = try addModel(name, from: store, to: &writer)
            case .image(let reference) where images[reference] == nil:
                let inside = "images/" + BundleCollector.fileName(reference) + ".tar"
                try saveImage(reference, to: staging + "/" + BundleCollector.fileName(reference) + ".tar")
                try writer.add(BundleWriter.Item(path: inside, source: .file(staging + "/" + BundleCollector.fileName(reference) + ".tar")))
                images[reference] = inside
            case .url(let url, let checksum) where urls[url] == nil:
                let name = URLFetch.fileName(url)
                let staged = staging + "/" + SHA256.hex(Array(url.utf8)).prefix(16) + "-" + name
                let sha = try URLFetch.download(url, to: staged, progress: progress)
                if let checksum, checksum.dropFirst(7).lowercased() != sha {
                    throw BundleError("\(need.location): checksum mismatch for \(url): the manifest says \(checksum.dropFirst(7)), the download is \(sha): re-download, or update the checksum")
                }
                let inside = "files/\(sha.prefix(16))/\(name)"
                try writer.add(path: inside, file: staged, mode: 0o644)
                urls[url] = inside
            default: break
            }
        }
        try addProject(playDirectory, to: &writer)
        var installArguments: [String] = []
        for inventory in inventories {
            let absolute = URL(fileURLWithPath: inventory).standardizedFileURL.path
            let inside = "\(BundleCollector.projectFolder)/inventory/\((absolute as NSString).lastPathComponent)"
            try addTree(absolute, as: inside, to: &writer)
            installArguments += ["-i", inside]
        }
        if inventories.isEmpty {
            let parent = (playDirectory as NSString).deletingLastPathComponent
            if FileManager.default.fileExists(atPath: parent + "/inventory/hosts.yml") {
                try addTree(parent + "/inventory", as: "\(BundleCollector.projectFolder)/inventory", to: &writer)
            }
        }
        let binaryPath = binary ?? BundleCollector.runningBinary()
        guard FileManager.default.isExecutableFile(atPath: binaryPath) else { throw BundleError("\(binaryPath): not an executable provision binary") }
        try writer.add(path: "bin/provision", file: binaryPath, mode: 0o755)
        try writer.add(path: OfflineBundle.contentsFile, bytes: Array(OfflineBundle.contentsText(images: images, urls: urls, models: models, expected: expected,
                                                                                            packages: packages).utf8))
        let playInside = "\(BundleCollector.projectFolder)/\((playDirectory as NSString).lastPathComponent)/\((playbookPath as NSString).lastPathComponent)"
        try writer.add(path: "install.sh", bytes: Array(InstallScript.text(playbook: playInside, arguments: installArguments, extraVars: extraVars).utf8), mode: 0o755)
        return try writer.write(to: output)
    }

    /// The play's package tasks' names, one request per install_recommends setting, each name once.
    func packageRequests(_ needs: [NetworkNeed]) -> [PackageCollector.Request] {
        var requests: [PackageCollector.Request] = []
        for need in needs {
            guard case .packages(let names, let recommends) = need.kind else { continue }
            let index = requests.firstIndex { $0.recommends == recommends } ?? {
                requests.append(PackageCollector.Request(names: [], recommends: recommends))
                return requests.count - 1
            }()
            for name in names where !requests[index].names.contains(name) { requests[index].names.append(name) }
        }
        return requests
    }

    /// A model's manifest and every blob it names, from an Ollama model store into the bundle's `models/` (an
    /// Ollama model store too); each blob's sha256 is checked against its name while it is copied. Pulled
    /// through `modelsFrom` first when the store lacks it. Returns the manifest's path in the bundle.
    func addModel(_ name: OllamaModelName, from store: String, to writer: inout BundleWriter) throws -> String {
        let manifestFile = store + "/manifests/" + name.manifestPath
        if !FileManager.default.fileExists(atPath: manifestFile), let server = modelsFrom {
            try OllamaPull.pull(name, through: server, progress: progress)
            guard FileManager.default.fileExists(atPath: manifestFile) else {
                throw BundleError("\(name) was pulled through \(server), but \(store) has no \(manifestFile): --model-store must be that server's model store (its OLLAMA_MODELS)")
            }
        }
        guard let bytes = FileManager.default.contents(atPath: manifestFile).map([UInt8].init) else {
            throw BundleError("model \(name) is not in the model store \(store) (no \(manifestFile)): pull it there first "
                              + "(OLLAMA_MODELS=\(store) ollama pull \(name)), or give --models-from URL of a server that uses \(store)")
        }
        let manifest: OllamaManifest
        do { manifest = try OllamaManifest(bytes, path: manifestFile) } catch { throw BundleError("\(error)") }
        progress("model \(name): \(manifest.blobs.count) blobs, \(manifest.totalSize.decimalBytes)")
        for blob in manifest.blobs {
            let file = store + "/blobs/" + blob.file
            guard let size = BundleIO.fileSize(file) else {
                throw BundleError("model \(name): its blob \(file) is missing from the model store: pull the model again")
            }
            guard size == blob.size else {
                throw BundleError("Model checksum mismatch: \(file) is \(size) bytes, the manifest of \(name) says \(blob.size): pull the model again")
            }
            try writer.add(BundleWriter.Item(path: OfflineBundle.modelsFolder + "/blobs/" + blob.file, source: .file(file),
                                             mode: 0o644, expectedSHA256: blob.hex))
        }
        let inside = OfflineBundle.modelManifest(name)
        try writer.add(path: inside, bytes: bytes)
        return inside
    }

    func roles(of playbook: Playbook) -> Set<String> {
        var tasks: [Task] = []
        for play in playbook.plays { NetworkNeed.gather(play.tasks, into: &tasks) }
        return Set(tasks.compactMap { $0.common.role?.path })
    }

    /// The playbook's folder (roles/, group_vars/, files/, templates/ within), as project/NAME.
    func addProject(_ directory: String, to writer: inout BundleWriter) throws {
        try addTree(directory, as: "\(BundleCollector.projectFolder)/\((directory as NSString).lastPathComponent)", to: &writer)
    }

    /// A file, or every file under a folder but hidden ones (.git) and links out of it.
    func addTree(_ source: String, as inside: String, to writer: inout BundleWriter) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory) else { throw BundleError("\(source): no such file or folder") }
        guard isDirectory.boolValue else { return try writer.add(path: inside, file: source) }
        for file in BundleManifest.listedFiles(in: source) where !file.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
            try writer.add(path: inside + "/" + file, file: source + "/" + file)
        }
    }

    /// `podman save` of a pinned reference, pulled first when it is not in local storage.
    func saveImage(_ reference: String, to path: String) throws {
        if try HostCommand.run("podman", ["image", "exists", reference]).status != 0 {
            progress("pulling \(reference)")
            let pull = try HostCommand.run("podman", ["pull", "--quiet", reference])
            guard pull.status == 0 else { throw BundleError("podman pull \(reference) failed: \(pull.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
        }
        progress("saving \(reference)")
        let save = try HostCommand.run("podman", ["save", "--quiet", "-o", path, reference])
        guard save.status == 0 else { throw BundleError("podman save \(reference) failed: \(save.stderr.trimmingCharacters(in: .whitespacesAndNewlines))") }
    }

    /// A file name for an image reference: registry/name:tag → registry_name_tag.
    static func fileName(_ reference: String) -> String {
        String(reference.map { $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" ? $0 : "_" })
    }
}

/// Runs a program on the connected machine (podman, curl), output captured through files.
enum HostCommand {
    struct Output { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ program: String, _ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [program] + arguments
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("provision-bundle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out"), err = scratch.appendingPathComponent("err")
        for url in [out, err] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Output(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}

/// Pulls through a connected Ollama server (POST /api/pull, through curl), so that its store holds the model.
enum OllamaPull {
    static func pull(_ name: OllamaModelName, through server: String, progress: (String) -> Void) throws {
        let base = server.hasSuffix("/") ? String(server.dropLast()) : server
        progress("pulling \(name) through \(base)")
        let body = "{\"model\":\"\(name.shortest)\",\"stream\":false}"
        let pull = try HostCommand.run("curl", ["-sS", "--max-time", "86400", "-X", "POST", "-H", "Content-Type: application/json",
                                                "-d", body, "-w", "\\n%{http_code}", base + "/api/pull"])
        let lines = pull.stdout.split(separator: "\n").map(String.init)
        guard pull.status == 0, lines.last == "200", lines.dropLast().joined().contains("\"success\"") else {
            let answer = lines.dropLast().joined(separator: " ")
            throw BundleError("pulling \(name) through \(base)/api/pull failed: \(pull.status == 0 ? "HTTP \(lines.last ?? "?"): \(answer)" : pull.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
    }
}

/// Downloads on the connected machine, through curl.
enum URLFetch {
    /// The URL's last path segment, as get_url names a file in a directory dest.
    static func fileName(_ url: String) -> String {
        let last = (URLComponents(string: url)?.path ?? "").split(separator: "/").last.map(String.init) ?? ""
        return last.isEmpty || last == "." || last == ".." ? "index.html" : last
    }

    /// Fetches `url` to `path`; returns its sha256.
    static func download(_ url: String, to path: String, progress: (String) -> Void) throws -> String {
        progress("downloading \(url)")
        let fetch = try HostCommand.run("curl", ["-fsSL", "--retry", "2", "-o", path, url])
        guard fetch.status == 0 else {
            throw BundleError("download of \(url) failed (curl exit \(fetch.status)): \(fetch.stderr.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return try BundleIO.sha256(path).sha256
    }
}
