import Foundation
import Provisioner

/// `mode: podman-compose`: podman-compose makes the containers; provision decides when. The project's
/// effective configuration (its merged files, its dotenv files, the services' env files, the enabled
/// profiles) is hashed into the label `provision.compose.hash` of every container it makes: `up -d` runs only
/// when a service's container is missing, carries another hash, or its image reference names another image;
/// stopped containers are started. podman-compose's own config hash leaves env files out, hence our label.
struct ComposePodman {
    let module: ComposeModule
    let loaded: ComposeModule.Loaded

    var scope: PodmanScope { module.scope }
    var project: ComposeProject { loaded.project }

    static func presence(_ scope: PodmanScope) -> Observation {
        .command(["/bin/sh", "-c", "command -v podman-compose >/dev/null 2>&1 && echo yes || echo no", "podman-compose-presence"])
    }

    struct PodmanState {
        var missing = false
        /// The scope's user does not exist (yet: check mode on a fresh host): it has no containers.
        var userMissing = false
        var containers: [PodmanProbe.Container] = []
        var images: [PodmanProbe.Image] = []
    }

    static func podmanState(_ observed: Observations, scope: PodmanScope) throws -> PodmanState {
        var state = PodmanState()
        switch try PodmanProbe.parseContainers(observed.command(PodmanProbe.containers(scope).argv), owner: scope.owner) {
        case .podmanMissing: state.missing = true
        case .userMissing: state.userMissing = true
        case .entries(let containers): state.containers = containers
        }
        if !state.missing && !state.userMissing {
            state.images = try PodmanProbe.parseImages(observed.command(PodmanProbe.images(scope).argv), owner: scope.owner).entries
        }
        return state
    }

    /// The effective configuration's hash: canonical JSON of the merged project, the dotenv files, each
    /// service's env files, the profiles and the project's name.
    var hash: String {
        var text = "project=\(project.name)\nprofiles=\(module.profiles.sorted().joined(separator: ","))\n"
        text += ComposePodman.canonical(project.root.value) + "\n"
        for file in loaded.dotenv { text += "dotenv \(file.path)\n\(file.text)\n" }
        for (service, node) in project.services {
            let entries = (node["env_file"]?.items ?? []).compactMap { $0.text ?? $0["path"]?.text }
            for entry in entries {
                let path = entry.hasPrefix("/") ? entry : ComposeQuadlet.join(project.directory ?? "/", entry)
                text += "env_file \(service) \(path) \(loaded.hostFiles[path].map { SHA256.hex($0.content) } ?? "missing")\n"
            }
        }
        return SHA256.hex(Array(text.utf8))
    }

    /// JSON with sorted keys: the same configuration gives the same text however its files order keys.
    static func canonical(_ value: Value) -> String {
        switch value {
        case .dict(let pairs):
            return "{" + pairs.sorted { $0.key < $1.key }.map { Value.string($0.key).json + ":" + canonical($0.value) }.joined(separator: ",") + "}"
        case .list(let items): return "[" + items.map(canonical).joined(separator: ",") + "]"
        default: return value.json
        }
    }

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let podman = try ComposePodman.podmanState(observed, scope: scope)
        let installed = observed.command(ComposePodman.presence(scope).argv)?.stdout.hasPrefix("yes") ?? false
        if podman.missing || !installed {
            let problem = podman.missing ? "podman is not installed on this host" : "podman-compose is not installed on this host"
            guard context.checkMode else { throw ModuleError(problem + " (the standard's role installs both: podman_standard_linux)") }
            return Plan(changes: module.present ? [Change("podman-compose up -d project \(project.name) (\(problem) yet: an earlier task installs it)", actions: [])] : [],
                        result: result(hash: nil))
        }
        if podman.userMissing && !context.checkMode {
            throw ModuleError("there is no user \(scope.user ?? ""): create it first (user module)")
        }
        let mine = podman.containers.filter { $0.labels["io.podman.compose.project"] == project.name }
        if module.present, let unit = podman.containers.first(where: { $0.labels[ComposeQuadlet.projectLabel] == project.name && $0.labels["io.podman.compose.project"] == nil }) {
            throw ModuleError("the project \(project.name) runs as systemd units (container \(unit.names.first ?? "")): remove it there first "
                              + "(state: absent, mode: quadlet), then run it with podman-compose")
        }
        guard module.present else {
            guard !mine.isEmpty else { return Plan(result: result(hash: nil)) }
            let names = mine.compactMap { $0.names.first }.sorted()
            let command = loaded.sources.isEmpty ? removeByLabel() : compose(["down"] + (module.removeVolumes ? ["--volumes"] : []))
            return Plan(changes: [Change("podman-compose down project \(project.name) (\(names.joined(separator: ", ")))",
                                         diff: TextDiff(label: "project \(project.name)", before: names.map { "\($0)\n" }.joined(), after: ""),
                                         actions: [.run(command)])], result: result(hash: nil))
        }
        let hash = self.hash
        let wanted = project.services.map(\.name)
        var reasons: [String] = []
        var stopped: [String] = []
        for service in wanted {
            guard let container = mine.first(where: { $0.labels["com.docker.compose.service"] == service }) else {
                reasons.append("\(service) has no container")
                continue
            }
            if container.labels[ComposeModule.hashLabel] != hash {
                reasons.append(container.labels[ComposeModule.hashLabel] == nil ? "\(service) was not made by provision" : "the configuration of \(project.name) changed")
            } else if let reason = imageMoved(service, container, images: podman.images) {
                reasons.append(reason)
            } else if container.state != "running" {
                stopped.append(container.names.first ?? service)
            }
        }
        for container in mine where !wanted.contains(container.labels["com.docker.compose.service"] ?? "") {
            reasons.append("\(container.names.first ?? "a container") is no longer a service of it")
        }
        let shown = "hash: \(hash)\nservices: \(wanted.joined(separator: " "))\n"
        if let reason = unique(reasons).first.map({ _ in unique(reasons).joined(separator: "; ") }) {
            let verb = mine.isEmpty ? "podman-compose up -d project \(project.name)" : "recreate project \(project.name): \(reason)"
            let before = mine.isEmpty ? "" : "hash: \(mine.compactMap { $0.labels[ComposeModule.hashLabel] }.first ?? "none")\n"
            return Plan(changes: [Change(verb, diff: TextDiff(label: "project \(project.name)", before: before, after: shown),
                                         actions: [.run(up(hash: hash, recreate: !mine.isEmpty, services: wanted))])],
                        result: result(hash: hash))
        }
        if !stopped.isEmpty {
            return Plan(changes: [Change("start \(stopped.sorted().joined(separator: " ")) (project \(project.name))",
                                         actions: [.run(scope.podmanCommand(["start"] + stopped.sorted()))])], result: result(hash: hash))
        }
        return Plan(result: result(hash: hash))
    }

    func unique(_ items: [String]) -> [String] { items.reduce(into: []) { if !$0.contains($1) { $0.append($1) } } }

    func imageMoved(_ service: String, _ container: PodmanProbe.Container, images: [PodmanProbe.Image]) -> String? {
        guard let raw = project.services.first(where: { $0.name == service })?.node["image"]?.text,
              let reference = try? ComposeInterpolation(variables: project.variables).interpolate(raw),
              let image = PodmanProbe.find(reference, in: images), image.id != container.imageID else { return nil }
        return "\(reference) now names another image"
    }

    func result(hash: String?) -> ValueDict {
        var result = ValueDict([("project", .string(project.name)), ("mode", "podman-compose"), ("state", .string(module.present ? "present" : "absent")),
                                ("services", .list(project.services.map { .string($0.name) }))])
        if let hash { result["hash"] = .string(hash) }
        return result
    }

    // MARK: Commands

    /// podman-compose with the project's files (an inline definition comes on stdin), its env file and profiles.
    func words(_ arguments: [String], global: [String] = []) -> [String] {
        var words = ["podman-compose", "-p", project.name]
        if module.definition != nil { words += ["-f", "-"] } else { for file in loaded.sources { words += ["-f", file.path] } }
        for file in loaded.dotenv where module.envFiles != nil { words += ["--env-file", file.path] }
        for profile in module.profiles { words += ["--profile", profile] }
        return words + global + arguments
    }

    var definitionInput: [UInt8]? { module.definition.map { Array($0.value.json.utf8) } }

    /// podman-compose run in the project's folder.
    func compose(_ arguments: [String]) -> Command {
        let words = self.words(arguments)
        let directory = project.directory ?? "/"
        let argv = scope.runner + ["/bin/sh", "-c", #"cd "$1" && shift && exec "$@""#, "compose-in", directory] + words
        return scope.labeled(argv, "cd \(directory) && " + words.joined(separator: " "), stdin: definitionInput)
    }

    /// `up -d` (recreating: podman-compose then takes the project down first), then a check that every
    /// service has a container of this configuration that runs (or ran and exited 0).
    func up(hash: String, recreate: Bool, services: [String]) -> Command {
        let words = self.words(["up", "-d", "--remove-orphans"] + (recreate ? ["--force-recreate"] : []),
                               global: ["--podman-run-args=--label=\(ComposeModule.hashLabel)=\(hash)"])
        let directory = project.directory ?? "/"
        let argv = scope.runner + ["/bin/sh", "-c", ComposePodman.upScript, "compose-up", directory, project.name, hash,
                                   String(services.count)] + services + words
        return scope.labeled(argv, "cd \(directory) && " + words.joined(separator: " "), stdin: definitionInput)
    }

    static let upScript = #"""
    dir=$1 name=$2 hash=$3 n=$4; shift 4
    want=; while [ "$n" -gt 0 ]; do want="$want $1"; shift; n=$((n-1)); done
    cd "$dir" || exit 1
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -ne 0 ]; then printf '%s\n' "$out" >&2; exit "$rc"; fi
    made=$(podman ps -a --filter "label=io.podman.compose.project=$name" --filter "label=provision.compose.hash=$hash" \
      --format '{{index .Labels "com.docker.compose.service"}} {{.State}} {{.ExitCode}}')
    bad=
    for s in $want; do
      printf '%s\n' "$made" | grep -Eq "^$s (running [0-9]+|exited 0)\$" || bad="$bad $s"
    done
    [ -z "$bad" ] && { printf '%s\n' "$out"; exit 0; }
    printf '%s\n' "$out" >&2
    echo "podman-compose ran, but these services have no running container:$bad" >&2
    printf '%s\n' "$made" >&2
    exit 1
    """#

    /// Removal of a project whose files are gone: its containers, pod and networks, by label.
    func removeByLabel() -> Command {
        let script = #"""
        name=$1 volumes=$2
        ids=$(podman ps -a -q --filter "label=io.podman.compose.project=$name")
        [ -z "$ids" ] || podman rm -f $ids >/dev/null || exit 1
        podman pod rm -f -i "pod_$name" >/dev/null 2>&1
        for net in $(podman network ls -q --filter "label=io.podman.compose.project=$name"); do podman network rm "$net" >/dev/null; done
        [ "$volumes" = 1 ] || exit 0
        for vol in $(podman volume ls -q --filter "label=io.podman.compose.project=$name"); do podman volume rm "$vol" >/dev/null || exit 1; done
        """#
        return scope.labeled(scope.runner + ["/bin/sh", "-c", script, "compose-remove", project.name, module.removeVolumes ? "1" : "0"],
                             "remove the containers, pod and networks labelled io.podman.compose.project=\(project.name)")
    }
}
