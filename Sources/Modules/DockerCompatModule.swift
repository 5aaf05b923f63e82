import Provisioner

/// The container runtime standard's Docker CLI compatibility (§2.2, §2.3): `docker` runs
/// podman and `docker-compose` runs podman-compose, so scripts and habits keep working.
///
/// `method: package` installs `podman-docker` (its /usr/bin/docker runs podman): the
/// standard's way on the RedHat family, and what `auto` picks there. Debian and Ubuntu
/// package podman-docker too, so `package` works there as well; `auto` follows the
/// standard's §2.2 and writes a wrapper script to BIN_DIR/docker instead. docker-compose is
/// always a wrapper script.
///
/// A symbolic link to podman at BIN_DIR/docker (the standard's §9.1 fix) already complies
/// and is kept; another file there is replaced, with a backup. The standard wants one
/// runtime per host, so the module refuses while Docker Engine is installed (§6.1).
struct DockerCompatModule: Module {
    static let name = "docker_compat"
    static let summary = "Make `docker` run podman and `docker-compose` run podman-compose (container runtime standard §2.2)"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"],
                     doc: "present: docker runs podman; absent: remove this module's wrappers (and podman-docker with method package)"),
        ArgumentSpec("method", .string, default: "auto", choices: ["auto", "package", "wrapper"],
                     doc: "package installs podman-docker; wrapper writes BIN_DIR/docker; auto: package on RedHat, wrapper elsewhere"),
        ArgumentSpec("compose", .bool, default: true, doc: "also make docker-compose run podman-compose (a wrapper in bin_dir)"),
        ArgumentSpec("bin_dir", .path, default: "/usr/local/bin", doc: "where the wrapper scripts go (must come before /usr/bin in PATH)"),
    ]

    /// Packages of Docker Engine, which the standard does not want beside podman.
    static let enginePackages = ["docker-ce", "docker.io", "moby-engine"]
    static let compatPackage = "podman-docker"

    /// A wrapper script this module writes: its content, and the program a compliant link points to.
    struct Wrapper {
        var command: String
        var program: String
        var section: String
        var path: String

        var content: [UInt8] {
            Array("#!/bin/sh\n# \(marker) (container runtime standard \(section)): \(command) runs \(program).\nexec \(program) \"$@\"\n".utf8)
        }
        var marker: String { command == "docker" ? "Docker CLI compatibility" : "Docker Compose compatibility" }
        /// Ours, in this or an earlier wording: replaced without a backup, and removed by state absent.
        func isOurs(_ bytes: [UInt8]) -> Bool {
            bytes.starts(with: Array("#!/bin/sh\n# \(marker) (container runtime standard".utf8))
        }
        func isLinkToProgram(_ state: FileState) -> Bool {
            state.kind == .link && state.linkTarget.map(PathText.base(of:)) == program
        }
    }

    let present: Bool
    let method: String
    let compose: Bool
    let binDir: String

    init(_ arguments: ModuleArguments) throws {
        present = arguments.string("state") != "absent"
        method = arguments.string("method") ?? "auto"
        compose = arguments.bool("compose")
        binDir = arguments.string("bin_dir") ?? "/usr/local/bin"
        guard binDir.hasPrefix("/") else { throw ModuleError("bin_dir must be an absolute path, not '\(binDir)'", argument: "bin_dir") }
    }

    var docker: Wrapper { Wrapper(command: "docker", program: "podman", section: "§2.2", path: PathText.join(binDir, "docker")) }
    var dockerCompose: Wrapper {
        Wrapper(command: "docker-compose", program: "podman-compose", section: "§2.3", path: PathText.join(binDir, "docker-compose"))
    }

    /// `package` or `wrapper`, with `auto` resolved from the os_family fact.
    func resolvedMethod(_ context: ModuleContext) -> String {
        guard method == "auto" else { return method }
        return context.facts["os_family"]?.string == "RedHat" ? "package" : "wrapper"
    }

    var probedPackages: [String] { DockerCompatModule.enginePackages + [DockerCompatModule.compatPackage] }

    /// The wrappers this run looks at: for present, the docker one only with method wrapper;
    /// for absent, both (only ours are removed).
    func wrappers(_ context: ModuleContext) -> [Wrapper] {
        (present && resolvedMethod(context) == "package" ? [] : [docker]) + (compose ? [dockerCompose] : [])
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        var wanted: [Observation] = PackageManager(facts: context.facts).map { [.command($0.installedProbe(probedPackages))] } ?? []
        let files = wrappers(context)
        if present && !files.isEmpty { wanted.append(.file(path: binDir, content: false)) }
        wanted += files.map { .file(path: $0.path, content: true) }
        return wanted
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let method = resolvedMethod(context)
        let manager = PackageManager(facts: context.facts)
        var installed: [String: PackageManager.Installed] = [:]
        if let manager {
            switch manager.parseInstalled(observed.command(manager.installedProbe(probedPackages)), probedPackages) {
            case .success(let found): installed = found
            case .failure(let failure): return .failed(failure.message)
            }
        } else if method == "package" {
            return .failed(PackageManager.unsupported(context.facts) + "; use method: wrapper")
        }
        // Only the package itself counts (not something that merely provides the name).
        func has(_ package: String) -> Bool { installed[package].map { $0.isInstalled && $0.package == package } ?? false }
        var result = ValueDict([("state", .string(present ? "present" : "absent")), ("method", .string(method))])
        result["docker"] = .string(method == "package" ? "/usr/bin/docker" : docker.path)
        if compose { result["compose"] = .string(dockerCompose.path) }
        guard present else {
            var changes = wrappers(context).compactMap { removal($0, observed) }
            if method == "package", let manager, has(DockerCompatModule.compatPackage) {
                changes.append(Change("remove \(DockerCompatModule.compatPackage)",
                                      actions: [.run(manager.removeCommand([DockerCompatModule.compatPackage]))]))
            }
            return Plan(changes: changes, result: result)
        }
        let engines = DockerCompatModule.enginePackages.filter(has)
        if let manager, !engines.isEmpty { return .failed(DockerCompatModule.engineRefusal(engines, manager)) }
        var changes: [Change] = []
        if let manager, method == "package", !has(DockerCompatModule.compatPackage) {
            changes.append(Change("install \(DockerCompatModule.compatPackage)",
                                  diff: TextDiff(label: "packages", before: "", after: "\(DockerCompatModule.compatPackage): installed\n"),
                                  actions: [.run(manager.installCommand([DockerCompatModule.compatPackage]))]))
        }
        let files = wrappers(context)
        if !files.isEmpty, observed.file(binDir) == nil {
            changes.append(Change("create directory \(binDir)",
                                  actions: [.makeDirectory(path: binDir, attributes: FileAttributes(mode: 0o755, owner: "root", group: "root"))]))
        }
        for wrapper in files {
            let current = observed.file(wrapper.path)
            if let kind = current?.kind, kind == .directory || kind == .other {
                return .failed("\(wrapper.path) is a \(kind == .directory ? "directory" : "special file"); "
                    + "move it away so \(wrapper.command) can run \(wrapper.program)")
            }
            if let change = deployment(wrapper, current) { changes.append(change) }
        }
        return Plan(changes: changes, result: result)
    }

    static func engineRefusal(_ engines: [String], _ manager: PackageManager) -> String {
        let remove = manager == .apt ? "apt-get remove \(engines.joined(separator: " "))" : "dnf remove \(engines.joined(separator: " "))"
        return "Docker Engine is installed (\(engines.joined(separator: ", "))): the container runtime standard wants one runtime "
            + "per host, podman. Migrate its containers first (standard §6.1), then stop it "
            + "(systemctl disable --now docker.socket docker) and remove it (\(remove))"
    }

    // MARK: Aspects

    static let attributes = FileAttributes(mode: 0o755, owner: "root", group: "root")

    /// The change that leaves `wrapper` in place of `current` (a file or link); nil when it, or a
    /// link to its program, is there with the right attributes.
    func deployment(_ wrapper: Wrapper, _ current: FileState?) -> Change? {
        let content = wrapper.content
        let after = String(decoding: content, as: UTF8.self)
        let wanted = DockerCompatModule.attributes
        guard let current else {
            return Change("create \(wrapper.path) (\(wrapper.command) runs \(wrapper.program))",
                          diff: TextDiff(label: wrapper.path, before: "", after: after),
                          actions: [.writeFile(path: wrapper.path, content: content, attributes: wanted, backup: false)])
        }
        if current.kind == .link {
            if wrapper.isLinkToProgram(current) { return nil }
            let target = current.linkTarget ?? "?"
            return Change("replace link \(wrapper.path) -> \(target) with a wrapper running \(wrapper.program)",
                          diff: TextDiff(label: wrapper.path, before: "-> \(target)\n", after: after),
                          actions: [.writeFile(path: wrapper.path, content: content, attributes: wanted, backup: false)])
        }
        let bytes = current.content ?? []
        if bytes == content {
            guard current.mode != wanted.mode || current.owner != wanted.owner || current.group != wanted.group else { return nil }
            return Change("set \(wanted) on \(wrapper.path)",
                          diff: TextDiff(label: wrapper.path, before: "mode 0\(String(current.mode, radix: 8)), \(current.owner):\(current.group)\n",
                                         after: "mode 0755, root:root\n"),
                          actions: [.setAttributes(path: wrapper.path, attributes: wanted)])
        }
        // Someone else's file is kept as a backup; an older wording of ours is simply rewritten.
        let ours = wrapper.isOurs(bytes)
        return Change(ours ? "update \(wrapper.path)" : "replace \(wrapper.path) with a wrapper running \(wrapper.program) (backup kept)",
                      diff: TextDiff(label: wrapper.path, before: ContentDeployment.diffText(bytes), after: after),
                      actions: [.writeFile(path: wrapper.path, content: content, attributes: wanted, backup: !ours)])
    }

    /// Removes `wrapper` only when it is ours.
    func removal(_ wrapper: Wrapper, _ observed: Observations) -> Change? {
        guard let current = observed.file(wrapper.path), current.kind == .file, wrapper.isOurs(current.content ?? []) else { return nil }
        return Change("remove \(wrapper.path)",
                      diff: TextDiff(label: wrapper.path, before: ContentDeployment.diffText(current.content ?? []), after: ""),
                      actions: [.remove(path: wrapper.path)])
    }
}
