import Foundation
import Provisioner

/// A compose project (`docker-compose.yml` as it is, standard §2.3), converged one of two ways:
/// - `mode: podman-compose`: `podman-compose up -d` when the project's effective configuration changed (its
///   merged files, dotenv variables and env files, hashed into the label `provision.compose.hash` of every
///   container), `down` for `state: absent`;
/// - `mode: quadlet`: each service a systemd unit — the project translated into .container, .volume and
///   .network units (ComposeQuadlet) that are written, checked by the host's own generator, reloaded and
///   restarted by the quadlet module's machinery: only the units that changed restart.
/// The project is read from the host (`project_src`, as Ansible's docker_compose_v2) or given inline
/// (`definition`), in the play's one round trip.
struct ComposeModule: Module {
    static let name = "compose"
    static let aliases = ["docker_compose", "podman_compose"]
    static let summary = "A compose project (docker-compose.yml) run by podman-compose or as systemd units (quadlet)"
    static let defersUnitRestarts = true
    static let hashLabel = "provision.compose.hash"
    static let arguments: [ArgumentSpec] = [
        ArgumentSpec("project_src", .path, doc: "the project's folder on the host (its compose files, .env, relative paths)"),
        ArgumentSpec("definition", .dict, doc: "the compose file's content, inline (instead of files in project_src)"),
        ArgumentSpec("files", .list, doc: "compose files, relative to project_src, merged in order (default: compose.yaml or docker-compose.yml, and its override file)"),
        ArgumentSpec("project_name", .string, doc: "the project's name (default: name: in the file, else project_src's folder name)"),
        ArgumentSpec("env_file", .list, doc: "dotenv files with the variables ${VAR} uses (default: the project's .env)"),
        ArgumentSpec("profiles", .list, doc: "profiles to enable (services with profiles: run only when one is enabled)"),
        ArgumentSpec("mode", .string, default: "podman-compose", choices: ["podman-compose", "quadlet"],
                     doc: "podman-compose: containers made by podman-compose; quadlet: every service a systemd unit (for servers)"),
        ArgumentSpec("state", .string, default: "present", choices: ["present", "absent"],
                     doc: "absent: stop and remove the project's containers (units), keeping volumes unless remove_volumes"),
        ArgumentSpec("remove_volumes", .bool, default: false, doc: "with state: absent, also remove the project's named volumes"),
        ArgumentSpec("timeout", .int, default: 120, doc: "seconds to wait for the services to run (healthy, where others wait for that)"),
    ] + PodmanScope.specs

    /// docker compose's file names, in its order of preference, and their override files.
    static let defaultFiles = ["compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"]
    static let overrideFiles = ["compose.override.yaml", "compose.override.yml", "docker-compose.override.yaml", "docker-compose.override.yml"]

    let projectSource: String?
    let definition: ComposeNode?
    let files: [String]?
    let projectName: String?
    let envFiles: [String]?
    let profiles: [String]
    let quadlet: Bool
    let present: Bool
    let removeVolumes: Bool
    let timeout: Int
    let scope: PodmanScope

    init(_ arguments: ModuleArguments) throws {
        projectSource = arguments.string("project_src")
        files = arguments.strings("files")
        projectName = arguments.string("project_name")
        envFiles = arguments.strings("env_file")
        profiles = arguments.strings("profiles") ?? []
        quadlet = arguments.string("mode") == "quadlet"
        present = arguments.string("state") != "absent"
        removeVolumes = arguments.bool("remove_volumes")
        timeout = arguments.int("timeout") ?? 120
        scope = try PodmanScope(arguments)
        if let source = projectSource, !source.hasPrefix("/") {
            throw ModuleError("project_src must be an absolute path on the host, not '\(source)'", argument: "project_src")
        }
        if let name = projectName, !ComposeProject.isProjectName(name) {
            throw ModuleError("'\(name)' is not a project name: lower-case letters, digits, - and _, starting with a letter or digit", argument: "project_name")
        }
        if timeout < 1 { throw ModuleError("timeout must be at least 1 second", argument: "timeout") }
        if removeVolumes && present { throw ModuleError("remove_volumes: true goes with state: absent", argument: "remove_volumes") }
        if let given = arguments.dict("definition") {
            guard files == nil else { throw ModuleError("give definition or files, not both", argument: "files") }
            definition = ComposeNode(value: .dict(given))
            // What can be checked without the host is checked now: ports, top-level keys.
            try ComposeModule.precheck(definition, argument: "definition")
        } else {
            guard projectSource != nil else { throw ModuleError("give project_src (the project's folder on the host) or definition", argument: "project_src") }
            definition = nil
        }
        if projectSource == nil {
            for path in envFiles ?? [] where !path.hasPrefix("/") {
                throw ModuleError("env_file '\(path)' is relative and there is no project_src to resolve it against", argument: "env_file")
            }
        }
        if !quadlet, (envFiles?.count ?? 0) > 1 {
            throw ModuleError("podman-compose reads one env file (--env-file); merge them, or use mode: quadlet", argument: "env_file")
        }
    }

    /// Literal ports of an inline definition are real ports, before any host is touched.
    static func precheck(_ definition: ComposeNode?, argument: String) throws {
        for (service, node) in definition?["services"]?.pairs ?? [] {
            for (index, item) in (node["ports"]?.items ?? []).enumerated() {
                guard let text = item.text ?? item["published"]?.text, !text.contains("$") else { continue }
                do {
                    try PortSpec.validate(item.text ?? "\(text):\(item["target"]?.text ?? "1")", argument: argument)
                } catch let error as ModuleError {
                    throw ModuleError("services.\(service).ports[\(index)]: \(error.message)", argument: argument)
                }
            }
        }
    }

    // MARK: Observations

    var directory: String { projectSource ?? "/" }

    /// The files read from the host: compose files (explicit, or every default name), then dotenv files.
    var wantedFiles: (compose: [String], dotenv: [String]) {
        let compose = definition != nil ? [] : files ?? ComposeModule.defaultFiles + ComposeModule.overrideFiles
        return (compose, envFiles ?? (projectSource == nil ? [] : [".env"]))
    }

    var read: Observation {
        let wanted = wantedFiles
        let references = definition.map { ComposeProbe.references(in: $0.value.json) } ?? []
        return ComposeProbe.read(directory: directory, files: wanted.compose + wanted.dotenv, references: references)
    }

    func observations(_ context: ModuleContext) -> [Observation] {
        let podman = [PodmanProbe.containers(scope), PodmanProbe.images(scope)]
        if quadlet { return [read, QuadletProbe.listing(scope), ComposeUnits.environmentFiles(scope)] + podman }
        return [read, ComposePodman.presence(scope)] + podman
    }

    // MARK: Plan

    func plan(_ observed: Observations, _ context: ModuleContext) throws -> Plan {
        let wanted = wantedFiles
        guard let read = ComposeProbe.parse(observed.command(self.read.argv), count: wanted.compose.count + wanted.dotenv.count) else {
            throw ModuleError("could not read the compose project in \(directory): \(observed.command(self.read.argv).map { "status \($0.status): \($0.stderr)\($0.stdout.prefix(600))" } ?? "no answer")")
        }
        if read.directoryMissing {
            let message = "project_src \(directory) does not exist on the host"
            if context.checkMode { return .skipped(message + " yet (an earlier task makes it): nothing to compare") }
            guard !present else { throw ModuleError(message, argument: "project_src") }
        }
        let loaded: Loaded
        do {
            loaded = try load(read, wanted: wanted, interpolate: quadlet)
        } catch let error as ComposeError {
            if !present, read.directoryMissing || error.message.hasPrefix("no compose file") {
                // Removing a project whose files are gone: what the host holds of it is still found by its labels.
                return try absentWithoutFiles(observed)
            }
            throw ModuleError(error.description, argument: definition != nil ? "definition" : nil)
        }
        do {
            if quadlet { return try ComposeUnits(module: self, loaded: loaded).plan(observed, context) }
            return try ComposePodman(module: self, loaded: loaded).plan(observed, context)
        } catch let error as ComposeError {
            throw ModuleError(error.description, argument: definition != nil ? "definition" : nil)
        }
    }

    /// The project as read: its files, variables, and every host file it references, by absolute path.
    struct Loaded {
        var project: ComposeProject
        var sources: [ComposeSource]
        /// Dotenv files read for variables, with their text (hashed into the effective configuration).
        var dotenv: [ComposeSource]
        var hostFiles: [String: ComposeProbe.File]
        var folders: Set<String>

        func text(_ path: String) -> String? { hostFiles[path]?.text }
    }

    func load(_ read: ComposeProbe.Read, wanted: (compose: [String], dotenv: [String]), interpolate: Bool) throws -> Loaded {
        func absolute(_ path: String) -> String { path.hasPrefix("/") ? path : ComposeQuadlet.join(directory, path) }
        for (index, size) in read.tooLarge.sorted(by: { $0.key < $1.key }) {
            let all = wanted.compose + wanted.dotenv
            throw ComposeError("", "\(absolute(all[index])) is \(size) bytes: larger than a compose or env file can be here (1 MiB)")
        }
        var sources: [ComposeSource] = []
        if let definition {
            sources = [ComposeSource(path: "definition", text: definition.value.json)]
        } else if files != nil {
            for (index, file) in wanted.compose.enumerated() {
                guard let found = read.files[index] else { throw ComposeError("", "no compose file \(absolute(file)) on the host") }
                sources.append(ComposeSource(path: absolute(file), text: found.text))
            }
        } else {
            let count = ComposeModule.defaultFiles.count
            guard let base = (0..<count).first(where: { read.files[$0] != nil }) else {
                throw ComposeError("", "no compose file in \(directory) (\(ComposeModule.defaultFiles.joined(separator: ", ")))")
            }
            sources.append(ComposeSource(path: absolute(wanted.compose[base]), text: read.files[base]?.text ?? ""))
            if let override = (count..<wanted.compose.count).first(where: { read.files[$0] != nil }) {
                sources.append(ComposeSource(path: absolute(wanted.compose[override]), text: read.files[override]?.text ?? ""))
            }
        }
        var variables: [String: String] = [:]
        var dotenv: [ComposeSource] = []
        for (offset, file) in wanted.dotenv.enumerated() {
            guard let found = read.files[wanted.compose.count + offset] else {
                if envFiles != nil { throw ComposeError("", "env_file \(absolute(file)) does not exist on the host") }
                continue
            }
            for entry in try DotEnv.parse(found.text, file: absolute(file), known: variables) { variables[entry.key] = entry.value ?? "" }
            dotenv.append(ComposeSource(path: absolute(file), text: found.text))
        }
        var hostFiles: [String: ComposeProbe.File] = [:]
        for (path, file) in read.referenced { hostFiles[absolute(path)] = file }
        let folders = Set(read.folders.map(absolute))
        let project: ComposeProject
        if let definition {
            project = try ComposeProject.load(nodes: [definition], variables: variables, profiles: profiles, name: projectName,
                                              directory: projectSource, interpolate: interpolate)
        } else {
            project = try ComposeProject.load(sources, variables: variables, profiles: profiles, name: projectName,
                                              directory: projectSource, interpolate: interpolate)
        }
        return Loaded(project: project, sources: sources, dotenv: dotenv, hostFiles: hostFiles, folders: folders)
    }

    /// `state: absent` for a project whose compose files are gone: its units or containers are found by label.
    func absentWithoutFiles(_ observed: Observations) throws -> Plan {
        guard let name = projectName ?? projectSource.map({ URL(fileURLWithPath: $0).lastPathComponent.lowercased() }),
              ComposeProject.isProjectName(name) else {
            throw ModuleError("the project's files are gone: give project_name to remove what is left of it", argument: "project_name")
        }
        let project = ComposeProject(name: name, directory: projectSource, root: ComposeNode(.map([])), services: [], inactive: [], variables: [:])
        let loaded = Loaded(project: project, sources: [], dotenv: [], hostFiles: [:], folders: [])
        if quadlet { return try ComposeUnits(module: self, loaded: loaded).plan(observed, ModuleContext()) }
        return try ComposePodman(module: self, loaded: loaded).plan(observed, ModuleContext())
    }
}

extension ComposeNode {
    /// A node from a task's value (an inline definition): no source positions.
    init(value: Value) {
        // A definition built from host data (a registered audit) arrives marked unsafe: the marks mean nothing here.
        switch value.plain {
        case .list(let items): self.init(.list(items.map { ComposeNode(value: $0) }))
        case .dict(let pairs): self.init(.map(pairs.map { ($0.key, ComposeNode(value: $0.value)) }))
        default: self.init(.scalar(value))
        }
    }
}
