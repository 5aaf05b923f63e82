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
        for need in needs {
            switch need.kind {
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
        let requests = packageRequests(needs)
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
        for need in needs {
            switch need.kind {
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
        try writer.add(path: OfflineBundle.contentsFile, bytes: Array(OfflineBundle.contentsText(images: images, urls: urls, packages: packages).utf8))
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
