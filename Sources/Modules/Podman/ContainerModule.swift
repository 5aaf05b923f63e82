import Provisioner

/// A podman container without systemd (DESIGN §8). Idempotency comes from a hash of the declared spec,
/// kept in the label `provision.spec`: the container is recreated only when that hash (or the image the
/// reference now names) differs — never from comparing `podman inspect` with the image's defaults, which
/// is what makes other tools recreate containers on every run.
struct ContainerModule: Module {
    static let name = "container"
    static let summary = "A podman container (not a systemd unit): started, stopped, present or absent; recreated when its spec changes"
    static let specLabel = "provision.spec"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("name", .string, required: true, doc: "the container's name"),
        ArgumentSpec("image", .string, doc: "the image (a pinned reference); needed unless state: absent"),
        ArgumentSpec("command", .raw, doc: "what the container runs: a list of words, or a string split as a shell would"),
        ArgumentSpec("entrypoint", .string, doc: "replaces the image's entrypoint"),
        ArgumentSpec("ports", .list, aliases: ["publish"], doc: "published ports, [[ip:][hostPort]:]containerPort[/protocol]"),
        ArgumentSpec("volumes", .list, aliases: ["volume"], doc: "mounts, SOURCE:DEST[:OPTIONS] (a named volume or a host path)"),
        ArgumentSpec("env", .dict, doc: "environment variables"),
        ArgumentSpec("env_file", .list, doc: "files on the host with KEY=value lines; a change of their content recreates the container"),
        ArgumentSpec("devices", .list, aliases: ["device"], doc: "devices (/dev/x, or CDI names such as nvidia.com/gpu=all)"),
        ArgumentSpec("container_user", .string, doc: "the user the container's process runs as (podman --user)"),
        ArgumentSpec("network", .list, aliases: ["networks"], doc: "networks to join (or a mode: host, none, pasta)"),
        ArgumentSpec("labels", .dict, doc: "labels on the container"),
        ArgumentSpec("restart", .string, aliases: ["restart_policy"], doc: "restart policy: no, on-failure[:N], always, unless-stopped"),
        ArgumentSpec("workdir", .string, doc: "working directory inside the container"),
        ArgumentSpec("hostname", .string, doc: "the container's host name"),
        ArgumentSpec("cap_add", .list, doc: "capabilities to add"),
        ArgumentSpec("cap_drop", .list, doc: "capabilities to drop"),
        ArgumentSpec("stop_timeout", .int, default: 10, doc: "seconds to wait for the container to stop before it is killed"),
        ArgumentSpec("recreate", .bool, default: false, doc: "recreate the container even when its spec is unchanged"),
        ArgumentSpec("state", .string, default: "started", choices: ["started", "stopped", "present", "absent"],
                     doc: "started: running; stopped: created, not running; present: exists (created once, left as it is); absent: removed"),
    ] + PodmanScope.specs

    let name: String
    let image: String?
    let command: [String]?
    let state: String
    let scope: PodmanScope
    let recreate: Bool
    let stopTimeout: Int
    let envFiles: [String]
    /// The creation options (everything of the spec but the image and command), in a fixed order.
    let options: [String]

    init(_ arguments: ModuleArguments) throws {
        name = arguments.string("name") ?? ""
        guard QuadletModule.isUnitName(name) else { throw ModuleError("'\(name)' is not a container name", argument: "name") }
        state = arguments.string("state") ?? "started"
        do {
            scope = try PodmanScope(arguments)
        } catch let error as ModuleError where error.argument == "user" && arguments.string("scope") != "user" {
            throw ModuleError(error.message + " (the user inside the container is container_user)", argument: "user")
        }
        recreate = arguments.bool("recreate")
        stopTimeout = arguments.int("stop_timeout") ?? 10
        image = arguments.string("image")
        if state != "absent" {
            guard let image, !image.isEmpty else { throw ModuleError("state: \(state) needs image", argument: "image") }
            try ImageReference.checkPinned(image, argument: "image")
        }
        switch arguments["command"] {
        case nil: command = nil
        case .string(let text)?: command = try Shlex.split(text, argument: "command")
        case .list(let words)?: command = words.map { $0.string ?? $0.pythonText }
        case let other?: throw ModuleError("command must be a string or a list of words, not \(other.typeName)", argument: "command")
        }
        envFiles = arguments.strings("env_file") ?? []
        for path in envFiles where !path.hasPrefix("/") {
            throw ModuleError("env_file paths must be absolute (they are read on the host): '\(path)'", argument: "env_file")
        }
        if let restart = arguments.string("restart") {
            let policy = restart.split(separator: ":").first.map(String.init) ?? ""
            guard ["no", "on-failure", "always", "unless-stopped"].contains(policy) else {
                throw ModuleError("restart must be no, on-failure[:N], always or unless-stopped, not '\(restart)'", argument: "restart")
            }
        }
        let ports = arguments.strings("ports") ?? []
        for port in ports { try PortSpec.validate(port, argument: "ports") }
        var options: [String] = []
        // Sets whose order means nothing are sorted, so reordering them is no change.
        for port in ports.sorted() { options += ["--publish", port] }
        for volume in arguments.strings("volumes") ?? [] { options += ["--volume", volume] }
        for (key, value) in (arguments.dict("env") ?? ValueDict()).sorted(by: { $0.key < $1.key }) {
            options += ["--env", "\(key)=\(value.string ?? value.pythonText)"]
        }
        for path in envFiles { options += ["--env-file", path] }
        for device in (arguments.strings("devices") ?? []).sorted() { options += ["--device", device] }
        if let user = arguments.string("container_user") { options += ["--user", user] }
        for network in (arguments.strings("network") ?? []).sorted() { options += ["--network", network] }
        for (key, value) in (arguments.dict("labels") ?? ValueDict()).sorted(by: { $0.key < $1.key }) {
            guard key != ContainerModule.specLabel else { throw ModuleError("the label \(key) is provision's own", argument: "labels") }
            options += ["--label", "\(key)=\(value.string ?? value.pythonText)"]
        }
        if let restart = arguments.string("restart") { options += ["--restart", restart] }
        if let workdir = arguments.string("workdir") { options += ["--workdir", workdir] }
        if let hostname = arguments.string("hostname") { options += ["--hostname", hostname] }
        for capability in (arguments.strings("cap_add") ?? []).sorted() { options += ["--cap-add", capability] }
        for capability in (arguments.strings("cap_drop") ?? []).sorted() { options += ["--cap-drop", capability] }
        if let entrypoint = arguments.string("entrypoint") { options += ["--entrypoint", entrypoint] }
        options += ["--stop-timeout", String(stopTimeout)]
        self.options = options
    }

    // MARK: Observations

    /// The sha256 of each env file (a change of their content is a change of the spec).
    var envProbe: [String] {
        ["/bin/sh", "-c", #"for f; do echo "$(sha256sum -- "$f" 2>/dev/null | cut -c1-64)"; done"#, "env-files"] + envFiles
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        [PodmanProbe.containers(scope), PodmanProbe.images(scope)] + (envFiles.isEmpty ? [] : [.command(envProbe)])
    }

    struct State: Equatable {
        var podmanMissing = false
        var userMissing = false
        var container: PodmanProbe.Container?
        /// The id of the image the reference names on the host now.
        var image: String?
        /// sha256 of each env file, by position; "" when missing.
        var envFiles: [String] = []
    }

    func state(_ observed: Observations) throws -> State {
        var state = State()
        switch try PodmanProbe.parseContainers(observed.command(PodmanProbe.containers(scope).argv), owner: scope.owner) {
        case .podmanMissing: state.podmanMissing = true
        case .userMissing: state.userMissing = true
        case .entries(let containers): state.container = containers.first { $0.names.contains(name) }
        }
        if let image, state.container != nil, !state.podmanMissing {
            state.image = PodmanProbe.find(image, in: try PodmanProbe.parseImages(observed.command(PodmanProbe.images(scope).argv), owner: scope.owner).entries)?.id
        }
        if !envFiles.isEmpty {
            state.envFiles = (observed.command(envProbe)?.stdout ?? "").split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        return state
    }

    /// The spec hash: everything that makes the container what it is, env files' content included.
    func specHash(_ state: State) -> String {
        var text = "image=\(image ?? "")\n"
        text += options.joined(separator: "\n") + "\n"
        text += "command=" + (command.map { $0.joined(separator: "\u{0}") } ?? "(image default)") + "\n"
        for (index, path) in envFiles.enumerated() {
            text += "env_file \(path) sha256:\(index < state.envFiles.count ? state.envFiles[index] : "")\n"
        }
        return SHA256.hex(Array(text.utf8))
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let state = try self.state(observed)
        if state.podmanMissing && !context.checkMode {
            return .failed("podman is not installed on this host (the container module needs it)")
        }
        if state.userMissing && !context.checkMode {
            return .failed("there is no user \(scope.user ?? ""): create it first (user module)")
        }
        var result = ValueDict([("name", .string(name)), ("state", .string(self.state))])
        let found = state.container
        if self.state == "absent" {
            guard found != nil else { return Plan(result: result) }
            return Plan(changes: [Change("remove container \(name)", diff: TextDiff(label: "container \(name)", before: "state: \(found?.state ?? "")\n", after: "state: absent\n"),
                                         actions: [.run(remove)])], result: result)
        }
        for (index, path) in envFiles.enumerated() where (index >= state.envFiles.count || state.envFiles[index].isEmpty) && !context.checkMode {
            return .failed("env_file \(path) does not exist on the host")
        }
        let hash = specHash(state)
        result["spec"] = .string(hash)
        let wantRunning = self.state == "started"
        guard let found else {
            return Plan(changes: [Change("create container \(name)" + (wantRunning ? " and start it" : ""),
                                         diff: TextDiff(label: "container \(name)", before: "state: absent\n",
                                                        after: "spec: \(hash)\nstate: \(wantRunning ? "running" : "created")\n"),
                                         actions: [.run(create(hash))])], result: result)
        }
        let reason: String?
        if recreate {
            reason = "recreate: true"
        } else if found.labels[ContainerModule.specLabel] == nil {
            reason = "it was not created by provision (no \(ContainerModule.specLabel) label)"
        } else if found.labels[ContainerModule.specLabel] != hash {
            reason = "its spec changed"
        } else if let current = state.image, current != found.imageID {
            reason = "\(image ?? "") now names another image (\(ContainerModule.short(current)), was \(ContainerModule.short(found.imageID)))"
        } else {
            reason = nil
        }
        if let reason {
            return Plan(changes: [Change("recreate container \(name): \(reason)",
                                         diff: TextDiff(label: "container \(name)", before: "spec: \(found.labels[ContainerModule.specLabel] ?? "none")\nimage: \(found.imageID)\n",
                                                        after: "spec: \(hash)\nimage: \(state.image ?? image ?? "")\n"),
                                         actions: [.run(remove), .run(create(hash))])], result: result)
        }
        let running = found.state == "running"
        switch self.state {
        case "started" where !running:
            return Plan(changes: [Change("start container \(name)", diff: TextDiff(label: "container \(name)", before: "state: \(found.state)\n", after: "state: running\n"),
                                         actions: [.run(scope.podmanCommand(["start", name]))])], result: result)
        case "stopped" where running:
            return Plan(changes: [Change("stop container \(name)", diff: TextDiff(label: "container \(name)", before: "state: running\n", after: "state: exited\n"),
                                         actions: [.run(scope.podmanCommand(["stop", "--time", String(stopTimeout), name]))])], result: result)
        default:
            return Plan(result: result)
        }
    }

    var remove: Command { scope.podmanCommand(["rm", "--force", "--time", String(stopTimeout), name]) }

    /// `podman run -d` (started) or `podman create`, with the spec label.
    func create(_ hash: String) -> Command {
        var words = (state == "started" ? ["run", "--detach"] : ["create"]) + ["--name", name, "--label", "\(ContainerModule.specLabel)=\(hash)"]
        words += options + [image ?? ""] + (command ?? [])
        return scope.podmanCommand(words)
    }

    static func short(_ id: String) -> String { String(id.replacingAll("sha256:", with: "").prefix(12)) }
}
