import Foundation
import Provisioner

/// One unit a compose project becomes: `NAME.container`, `.volume` or `.network` (podman-systemd.unit(5)).
struct ComposeUnit: Sendable {
    var name: String
    var kind: QuadletKind
    var unit: UnitFile
    /// The compose service of a `.container`.
    var service: String?
    /// The service's environment from its `env_file`s, in podman's `--env-file` format, kept beside the units
    /// (mode 0600: env files hold secrets, and a unit's Environment= would show in the generated service).
    var environmentFile: (name: String, text: String)?
    /// Seconds the service may take to become active (healthy, with Notify=healthy).
    var startTimeout: Int?

    var file: String { "\(name).\(kind.rawValue)" }

    /// The unit file, its header naming where it comes from.
    var text: String {
        let body = unit.text
        let lines = body.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
        return "# Written by provision from a compose project: edit its compose files, not this file.\n" + (lines.count == 2 ? String(lines[1]) : body)
    }
}

/// Translates a compose project into quadlet units, key by key. Beyond podlet: health checks become Health*
/// keys, `depends_on` conditions become Requires=/Wants= + After= (a dependency that must be healthy gets
/// Notify=healthy, one that must complete becomes a oneshot service), GPU reservations become
/// AddDevice=nvidia.com/gpu=…, restart policies [Service] Restart=. A key that has no translation is an error
/// naming the service and the key: nothing is dropped.
///
/// Names follow `docker compose`: containers `PROJECT-SERVICE-1` (or `container_name`), volumes
/// `PROJECT_VOLUME`, networks `PROJECT_NETWORK`, labels com.docker.compose.project/service — so data volumes
/// keep their names when a project moves from docker compose or podman-compose to units.
struct ComposeQuadlet {
    let project: ComposeProject
    /// nil: root's units (multi-user.target); a user's units go to default.target.
    let user: String?
    /// A host file's content by absolute path (env files); nil when it does not exist or was not read.
    let readFile: (String) -> String?

    static let projectLabel = "com.docker.compose.project"

    func units() throws -> [ComposeUnit] {
        var units: [ComposeUnit] = []
        let volumes = try declared("volumes")
        let networks = try declared("networks")
        for (name, node) in volumes where !isExternal(node) { units.append(try volumeUnit(name, node)) }
        let usesDefault = try project.services.contains { try serviceNetworks($0.name, $0.node).contains { $0.name == "default" } }
        for (name, node) in networks where !isExternal(node) { units.append(try networkUnit(name, node)) }
        if usesDefault, !networks.contains(where: { $0.name == "default" }) {
            units.append(try networkUnit("default", ComposeNode(.map([]))))
        }
        let healthy = try dependencies(condition: "service_healthy")
        let completed = try dependencies(condition: "service_completed_successfully")
        for (name, node) in project.services {
            units.append(try containerUnit(name, node, mustBeHealthy: healthy.contains(name), mustComplete: completed.contains(name)))
        }
        return units
    }

    // MARK: Names

    func unitName(_ object: String) -> String { "\(project.name)-\(object)" }
    func serviceUnit(_ service: String) -> String { unitName(service) + ".service" }

    func declared(_ section: String) throws -> [(name: String, node: ComposeNode)] {
        guard let node = project.root[section], !node.isNull else { return [] }
        guard let pairs = node.pairs else { throw ComposeError(section, "must be a mapping, not \(node.typeName)", at: node.location) }
        return pairs.map { ($0.key, $0.value) }
    }

    func isExternal(_ node: ComposeNode) -> Bool { node["external"]?.scalar == .bool(true) || node["external"]?.pairs != nil }

    /// The volume a service names: its unit (`P-x.volume`), or an external volume's own name.
    func volumeReference(_ name: String, path: String, at location: SourceLocation?) throws -> String {
        guard let node = try declared("volumes").first(where: { $0.name == name })?.node else {
            throw ComposeError(path, "the volume '\(name)' is not declared under the top-level volumes:", at: location)
        }
        if isExternal(node) { return node["name"]?.text ?? node["external"]?["name"]?.text ?? name }
        return unitName(name) + ".volume"
    }

    func networkReference(_ name: String, path: String, at location: SourceLocation?) throws -> String {
        if let node = try declared("networks").first(where: { $0.name == name })?.node {
            if isExternal(node) { return node["name"]?.text ?? node["external"]?["name"]?.text ?? name }
        } else if name != "default" {
            throw ComposeError(path, "the network '\(name)' is not declared under the top-level networks:", at: location)
        }
        return unitName(name) + ".network"
    }

    // MARK: Volumes and networks

    func volumeUnit(_ name: String, _ node: ComposeNode) throws -> ComposeUnit {
        let path = "volumes.\(name)"
        var section = SectionBuilder()
        section.add("VolumeName", node["name"]?.text ?? "\(project.name)_\(name)")
        for (key, value) in node.pairs ?? [] {
            let at = "\(path).\(key)"
            switch key {
            case "name", "external": break
            case "driver":
                if let driver = value.text, driver != "local" { section.add("Driver", driver) }
            case "driver_opts":
                for (option, setting) in value.pairs ?? [] {
                    guard let text = setting.text else { throw ComposeError("\(at).\(option)", "must be text", at: setting.location) }
                    switch option {
                    case "type": section.add("Type", text)
                    case "o": section.add("Options", text)
                    case "device": section.add("Device", text)
                    default: throw ComposeError("\(at).\(option)", "has no quadlet equivalent (type, o and device do)", at: setting.location)
                    }
                }
            case "labels":
                for (label, text) in try labels(value, path: at) { section.add("Label", UnitText.word(UnitText.escaped("\(label)=\(text)"))) }
            default:
                if key.hasPrefix("x-") { continue }
                throw ComposeError(at, "is not translated to a .volume unit (name, driver, driver_opts, labels and external are)", at: value.location)
            }
        }
        section.add("Label", "\(ComposeQuadlet.projectLabel)=\(project.name)")
        section.add("Label", "com.docker.compose.volume=\(name)")
        return ComposeUnit(name: unitName(name), kind: .volume, unit: UnitFile(sections: [section.section("Volume")]))
    }

    func networkUnit(_ name: String, _ node: ComposeNode) throws -> ComposeUnit {
        let path = "networks.\(name)"
        var section = SectionBuilder()
        section.add("NetworkName", node["name"]?.text ?? "\(project.name)_\(name)")
        for (key, value) in node.pairs ?? [] {
            let at = "\(path).\(key)"
            switch key {
            case "name", "external": break
            case "driver":
                if let driver = value.text, driver != "bridge" { section.add("Driver", driver) }
            case "driver_opts":
                for (option, setting) in value.pairs ?? [] {
                    guard let text = setting.text else { throw ComposeError("\(at).\(option)", "must be text", at: setting.location) }
                    section.add("Options", "\(option)=\(text)")
                }
            case "internal": if value.scalar == .bool(true) { section.add("Internal", "true") }
            case "enable_ipv6": if value.scalar == .bool(true) { section.add("IPv6", "true") }
            case "labels":
                for (label, text) in try labels(value, path: at) { section.add("Label", UnitText.word(UnitText.escaped("\(label)=\(text)"))) }
            case "ipam":
                for (ipamKey, setting) in value.pairs ?? [] {
                    switch ipamKey {
                    case "driver": if let driver = setting.text { section.add("IPAMDriver", driver) }
                    case "config":
                        for (index, entry) in (setting.items ?? []).enumerated() {
                            for (field, item) in entry.pairs ?? [] {
                                guard let text = item.text else { throw ComposeError("\(at).config[\(index)].\(field)", "must be text", at: item.location) }
                                switch field {
                                case "subnet": section.add("Subnet", text)
                                case "gateway": section.add("Gateway", text)
                                case "ip_range": section.add("IPRange", text)
                                default: throw ComposeError("\(at).config[\(index)].\(field)", "has no quadlet equivalent (subnet, gateway and ip_range do)", at: item.location)
                                }
                            }
                        }
                    default: throw ComposeError("\(at).\(ipamKey)", "has no quadlet equivalent (driver and config do)", at: setting.location)
                    }
                }
            default:
                if key.hasPrefix("x-") { continue }
                throw ComposeError(at, "is not translated to a .network unit (name, driver, driver_opts, internal, enable_ipv6, ipam, labels and external are)",
                                   at: value.location)
            }
        }
        section.add("Label", "\(ComposeQuadlet.projectLabel)=\(project.name)")
        section.add("Label", "com.docker.compose.network=\(name)")
        return ComposeUnit(name: unitName(name), kind: .network, unit: UnitFile(sections: [section.section("Network")]))
    }

    // MARK: Dependencies

    /// Services some other service waits on with `condition`.
    func dependencies(condition: String) throws -> Set<String> {
        var found = Set<String>()
        for (_, node) in project.services {
            for (dependency, entry) in node["depends_on"]?.pairs ?? [] where entry["condition"]?.text == condition { found.insert(dependency) }
        }
        return found
    }

    // MARK: Containers

    func containerUnit(_ service: String, _ node: ComposeNode, mustBeHealthy: Bool, mustComplete: Bool) throws -> ComposeUnit {
        let path = "services.\(service)"
        var unitSection = SectionBuilder()
        var container = SectionBuilder()
        var serviceSection = SectionBuilder()
        var podmanArguments: [String] = []
        var environmentFiles: [String] = []
        var restart: String?
        var restartDelay: Double?
        var healthWait: Double?
        unitSection.add("Description", UnitText.specifiers("\(service) (compose project \(project.name))"))
        container.add("ContainerName", UnitText.escaped(node["container_name"]?.text ?? "\(project.name)-\(service)-1"))
        guard let image = node["image"]?.text else {
            if node["build"] != nil {
                throw ComposeError("\(path).build", "is not translated: build the image first (podman build, or the image module with an archive) and name it in image:, or use mode: podman-compose",
                                   at: node["build"]?.location)
            }
            throw ComposeError(path, "has no image:", at: node.location)
        }
        container.add("Image", UnitText.escaped(image))
        container.add("Label", "\(ComposeQuadlet.projectLabel)=\(project.name)")
        container.add("Label", "com.docker.compose.service=\(service)")
        for network in try serviceNetworks(service, node) {
            container.add("Network", network.options.isEmpty ? network.reference : "\(network.reference):\(network.options.joined(separator: ","))")
        }
        if node["network_mode"] == nil { container.add("NetworkAlias", service) }

        for (key, value) in node.pairs ?? [] {
            let at = "\(path).\(key)"
            switch key {
            case "image", "container_name", "networks", "network_mode", "profiles": break
            case "command":
                container.add("Exec", try UnitText.command(try words(value, path: at)))
            case "entrypoint":
                let words = try self.words(value, path: at)
                container.add("Entrypoint", UnitText.escaped(words.count == 1 ? words[0] : UnitText.jsonArray(words)))
            case "environment":
                for (name, setting) in value.pairs ?? [] {
                    guard let text = setting.text else {
                        throw ComposeError("\(at).\(name)", setting.isNull
                            ? "has no value: docker compose would take it from the environment of the shell that runs it, which a systemd unit does not have; give it a value (${\(name)} from the project's .env works)"
                            : "must be text, not \(setting.typeName)", at: setting.location)
                    }
                    container.add("Environment", UnitText.word(UnitText.escaped("\(name)=\(text)")))
                }
            case "env_file":
                environmentFiles = try envFiles(value, path: at)
            case "ports":
                for (index, item) in (value.items ?? []).enumerated() { container.add("PublishPort", try port(item, path: "\(at)[\(index)]")) }
                if value.items == nil { throw ComposeError(at, "must be a list", at: value.location) }
            case "expose":
                for item in try ComposeProject.strings(value, path: at) {
                    try PortSpec.validate(item, argument: at)
                    container.add("ExposeHostPort", item)
                }
            case "volumes":
                guard let items = value.items else { throw ComposeError(at, "must be a list", at: value.location) }
                for (index, item) in items.enumerated() {
                    let (key, text) = try mount(item, path: "\(at)[\(index)]")
                    container.add(key, text)
                }
            case "tmpfs":
                for item in try ComposeProject.strings(value, path: at) { container.add("Tmpfs", UnitText.escaped(item)) }
            case "depends_on":
                for (dependency, entry) in value.pairs ?? [] {
                    let where_ = "\(at).\(dependency)"
                    guard project.services.contains(where: { $0.name == dependency }) else {
                        let why = project.inactive.contains(dependency) ? "is in a profile that is not enabled" : "is not a service of the project"
                        throw ComposeError(where_, "'\(dependency)' \(why)", at: entry.location)
                    }
                    var required = true
                    for (field, setting) in entry.pairs ?? [] {
                        switch field {
                        case "condition":
                            guard let text = setting.text, ["service_started", "service_healthy", "service_completed_successfully"].contains(text) else {
                                throw ComposeError("\(where_).condition", "must be service_started, service_healthy or service_completed_successfully", at: setting.location)
                            }
                        case "required": required = setting.scalar != .bool(false)
                        case "restart": break // systemd restarts a unit with what it Requires= (compose's restart: true)
                        default: throw ComposeError("\(where_).\(field)", "is not a depends_on key (condition, required, restart)", at: setting.location)
                        }
                    }
                    unitSection.add(required ? "Requires" : "Wants", serviceUnit(dependency))
                    unitSection.add("After", serviceUnit(dependency))
                }
            case "healthcheck":
                healthWait = try healthcheck(value, path: at, into: &container)
            case "restart":
                restart = try restartPolicy(value, path: at)
            case "user":
                guard let text = value.text else { throw ComposeError(at, "must be text", at: value.location) }
                let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
                container.add("User", UnitText.escaped(parts[0]))
                if parts.count == 2 { container.add("Group", UnitText.escaped(parts[1])) }
            case "working_dir": container.add("WorkingDir", UnitText.escaped(try text(value, at)))
            case "hostname": container.add("HostName", try text(value, at))
            case "ulimits":
                guard let pairs = value.pairs else { throw ComposeError(at, "must be a mapping", at: value.location) }
                for (name, limit) in pairs {
                    if let single = limit.text { container.add("Ulimit", "\(name)=\(single)"); continue }
                    guard let soft = limit["soft"]?.text, let hard = limit["hard"]?.text else {
                        throw ComposeError("\(at).\(name)", "must be a number or {soft, hard}", at: limit.location)
                    }
                    container.add("Ulimit", "\(name)=\(soft):\(hard)")
                }
            case "mem_limit": podmanArguments.append("--memory=\(try size(value, at))")
            case "mem_reservation": podmanArguments.append("--memory-reservation=\(try size(value, at))")
            case "memswap_limit": podmanArguments.append("--memory-swap=\(try size(value, at))")
            case "cpus": podmanArguments.append("--cpus=\(try number(value, at))")
            case "cpu_shares": podmanArguments.append("--cpu-shares=\(try number(value, at))")
            case "pids_limit": container.add("PidsLimit", try number(value, at))
            case "shm_size": container.add("ShmSize", try size(value, at))
            case "deploy":
                try deploy(value, path: at, container: &container, podmanArguments: &podmanArguments, restart: &restart, restartDelay: &restartDelay)
            case "devices":
                guard let items = value.items else { throw ComposeError(at, "must be a list", at: value.location) }
                for (index, item) in items.enumerated() {
                    if let text = item.text { container.add("AddDevice", UnitText.escaped(text)); continue }
                    guard let source = item["source"]?.text else { throw ComposeError("\(at)[\(index)]", "needs source:", at: item.location) }
                    let target = item["target"]?.text.map { ":\($0)" } ?? ""
                    let permissions = item["permissions"]?.text.map { ":\($0)" } ?? ""
                    container.add("AddDevice", UnitText.escaped(source + target + permissions))
                }
            case "gpus":
                if value.text == "all" {
                    container.add("AddDevice", "nvidia.com/gpu=all")
                } else {
                    for device in try gpuDevices(value, path: at) { container.add("AddDevice", device) }
                }
            case "cap_add": for item in try ComposeProject.strings(value, path: at) { container.add("AddCapability", item) }
            case "cap_drop": for item in try ComposeProject.strings(value, path: at) { container.add("DropCapability", item) }
            case "dns": for item in try ComposeProject.strings(value, path: at) { container.add("DNS", item) }
            case "dns_search": for item in try ComposeProject.strings(value, path: at) { container.add("DNSSearch", item) }
            case "dns_opt": for item in try ComposeProject.strings(value, path: at) { container.add("DNSOption", item) }
            case "extra_hosts":
                if let pairs = value.pairs {
                    for (host, address) in pairs { container.add("AddHost", "\(host):\(try text(address, "\(at).\(host)"))") }
                } else {
                    for item in try ComposeProject.strings(value, path: at) { container.add("AddHost", item.replacingAll("=", with: ":")) }
                }
            case "labels":
                for (label, text) in try labels(value, path: at) {
                    guard !label.hasPrefix("com.docker.compose.") else {
                        throw ComposeError("\(at).\(label)", "com.docker.compose.* labels are set by provision (project and service)", at: value.location)
                    }
                    container.add("Label", UnitText.word(UnitText.escaped("\(label)=\(text)")))
                }
            case "annotations":
                for (name, text) in try labels(value, path: at) { container.add("Annotation", UnitText.word(UnitText.escaped("\(name)=\(text)"))) }
            case "read_only": if value.scalar == .bool(true) { container.add("ReadOnly", "true") }
            case "init": if value.scalar == .bool(true) { container.add("RunInit", "true") }
            case "privileged": if value.scalar == .bool(true) { podmanArguments.append("--privileged") }
            case "tty": if value.scalar == .bool(true) { podmanArguments.append("--tty") }
            case "stdin_open": if value.scalar == .bool(true) { podmanArguments.append("--interactive") }
            case "stop_signal": container.add("StopSignal", try text(value, at))
            case "stop_grace_period":
                container.add("StopTimeout", String(Int(try ComposeQuadlet.seconds(try text(value, at), path: at, at: value.location).rounded(.up))))
            case "sysctls":
                for (name, setting) in value.pairs ?? [] { container.add("Sysctl", "\(name)=\(try text(setting, "\(at).\(name)"))") }
            case "group_add": for item in try ComposeProject.strings(value, path: at) { container.add("GroupAdd", item) }
            case "security_opt": for item in try ComposeProject.strings(value, path: at) { podmanArguments.append("--security-opt=\(item)") }
            case "pull_policy":
                let policy = try text(value, at)
                let map = ["always": "always", "never": "never", "missing": "missing", "if_not_present": "missing", "newer": "newer"]
                guard let pull = map[policy] else { throw ComposeError(at, "'\(policy)' has no quadlet equivalent (always, never, missing, if_not_present)", at: value.location) }
                container.add("Pull", pull)
            case "logging":
                for (field, setting) in value.pairs ?? [] {
                    switch field {
                    case "driver":
                        let driver = try text(setting, "\(at).driver")
                        guard ["json-file", "k8s-file", "journald", "none", "passthrough"].contains(driver) else {
                            throw ComposeError("\(at).driver", "podman has no '\(driver)' log driver (json-file, k8s-file, journald, none, passthrough)", at: setting.location)
                        }
                        container.add("LogDriver", driver)
                    case "options":
                        for (option, item) in setting.pairs ?? [] {
                            guard ["max-size", "tag", "path"].contains(option) else {
                                throw ComposeError("\(at).options.\(option)", "podman's log drivers have no option '\(option)' (max-size, tag, path)", at: item.location)
                            }
                            container.add("LogOpt", UnitText.word(UnitText.escaped("\(option)=\(try text(item, "\(at).options.\(option)"))")))
                        }
                    default: throw ComposeError("\(at).\(field)", "is not a logging key (driver, options)", at: setting.location)
                    }
                }
            default:
                if key.hasPrefix("x-") { continue }
                throw ComposeError(at, ComposeQuadlet.refusal(key), at: value.location)
            }
        }
        if mustBeHealthy {
            guard !mustComplete else {
                throw ComposeError("\(path)", "other services wait for it both to be healthy and to complete; a service is one or the other")
            }
            if node["healthcheck"]?["disable"]?.scalar == .bool(true) {
                throw ComposeError("\(path).healthcheck", "is disabled, yet a service waits for \(service) to be healthy (depends_on: condition: service_healthy)")
            }
            // The unit becomes active only once the container is healthy: what its dependents start After=.
            container.add("Notify", "healthy")
        }
        var environmentFile: (String, String)?
        if !environmentFiles.isEmpty {
            let text = try environmentText(service, node, files: environmentFiles, path: "\(path).env_file")
            environmentFile = ("\(unitName(service)).env", text)
            container.add("EnvironmentFile", "%E/containers/systemd/\(unitName(service)).env")
        }
        for argument in podmanArguments { container.add("PodmanArgs", UnitText.word(UnitText.escaped(argument))) }
        if mustComplete {
            if let restart, restart == "always" {
                throw ComposeError("\(path).restart", "a service others wait for to complete (service_completed_successfully) cannot restart always")
            }
            serviceSection.add("Type", "oneshot")
            serviceSection.add("RemainAfterExit", "yes")
        }
        if let restart { serviceSection.add("Restart", restart) }
        if let restartDelay { serviceSection.add("RestartSec", restartDelay == restartDelay.rounded() ? String(Int(restartDelay)) : String(restartDelay)) }
        var timeout: Int?
        if let healthWait, mustBeHealthy {
            timeout = Int(healthWait.rounded(.up)) + 30
            if let timeout, timeout > 90 { serviceSection.add("TimeoutStartSec", String(timeout)) }
        }
        var sections = [unitSection.section("Unit"), container.section("Container")]
        if !serviceSection.entries.isEmpty { sections.append(serviceSection.section("Service")) }
        // docker compose brings back at boot what has a restart policy; so do these units.
        if let restart, restart != "no" {
            var install = SectionBuilder()
            install.add("WantedBy", user == nil ? "multi-user.target" : "default.target")
            sections.append(install.section("Install"))
        }
        return ComposeUnit(name: unitName(service), kind: .container, unit: UnitFile(sections: sections), service: service,
                           environmentFile: environmentFile, startTimeout: timeout)
    }

    /// Why a service key is refused: known compose keys with no quadlet translation, or a misspelling.
    static func refusal(_ key: String) -> String {
        let reasons: [String: String] = [
            "build": "is not translated: build the image first and name it in image:",
            "extends": "is not translated: merge the services (or list both files under files:)",
            "secrets": "is not translated: podman secrets are created outside compose (podman secret create) and mounted with a Secret= key",
            "configs": "is not translated: mount the file with volumes: instead",
            "links": "is not translated: services reach each other by name on the project's network; use depends_on for the order",
            "external_links": "is not translated: join the other project's network (networks: with external: true)",
            "volumes_from": "is not translated: mount the same named volumes instead",
            "scale": "is not translated: a unit runs one container",
            "platform": "is not translated: pull the image for this host's platform",
            "ipc": "is not translated", "pid": "is not translated", "cgroup_parent": "is not translated",
            "mac_address": "is not translated", "domainname": "is not translated", "userns_mode": "is not translated",
            "isolation": "is not translated", "runtime": "is not translated", "storage_opt": "is not translated",
            "oom_score_adj": "is not translated", "oom_kill_disable": "is not translated", "cpuset": "is not translated",
            "cpu_quota": "is not translated", "cpu_period": "is not translated", "blkio_config": "is not translated",
            "device_cgroup_rules": "is not translated", "credential_spec": "is not translated", "develop": "is not translated",
            "post_start": "is not translated", "pre_stop": "is not translated", "uts": "is not translated", "attach": "is not translated",
        ]
        if let reason = reasons[key] { return reason + " (use mode: podman-compose for this service, or remove the key)" }
        let known = ["image", "container_name", "command", "entrypoint", "environment", "env_file", "ports", "expose", "volumes", "tmpfs",
                     "networks", "network_mode", "depends_on", "healthcheck", "restart", "user", "working_dir", "hostname", "ulimits",
                     "mem_limit", "mem_reservation", "memswap_limit", "cpus", "cpu_shares", "pids_limit", "shm_size", "deploy", "devices",
                     "gpus", "cap_add", "cap_drop", "dns", "dns_search", "dns_opt", "extra_hosts", "labels", "annotations", "read_only",
                     "init", "privileged", "tty", "stdin_open", "stop_signal", "stop_grace_period", "sysctls", "group_add",
                     "security_opt", "pull_policy", "logging", "profiles"]
        return "is not a compose service key\(Suggestion.hint(for: key, in: known))"
    }

    // MARK: Keys

    func text(_ node: ComposeNode, _ path: String) throws -> String {
        guard let text = node.text else { throw ComposeError(path, "must be text, not \(node.typeName)", at: node.location) }
        return text
    }

    func number(_ node: ComposeNode, _ path: String) throws -> String {
        guard let text = node.text, Double(text) != nil else { throw ComposeError(path, "must be a number, not \(node.typeName)", at: node.location) }
        return text
    }

    /// A size such as 512m, 1g, 1.5gb or a number of bytes.
    func size(_ node: ComposeNode, _ path: String) throws -> String {
        guard let text = node.text, text.range(of: #"^[0-9]+(\.[0-9]+)?\s*([bkmgtBKMGT][bB]?)?$"#, options: .regularExpression) != nil else {
            throw ComposeError(path, "must be a size such as 512m or 2g, not '\(node.text ?? node.typeName)'", at: node.location)
        }
        return text.replacingAll(" ", with: "")
    }

    /// A command as words: a list, or a string split as compose splits it (no shell).
    func words(_ node: ComposeNode, path: String) throws -> [String] {
        if let text = node.text {
            do { return try Shlex.split(text, argument: path) } catch let error as ModuleError { throw ComposeError(path, error.message, at: node.location) }
        }
        guard let items = node.items else { throw ComposeError(path, "must be text or a list of words", at: node.location) }
        return try items.enumerated().map { try text($0.element, "\(path)[\($0.offset)]") }
    }

    func labels(_ node: ComposeNode, path: String) throws -> [(String, String)] {
        let mapping = try ComposeProject.keyValues(node, path: path, separator: "=")
        return try (mapping.pairs ?? []).map { key, value in (key, value.isNull ? "" : try text(value, "\(path).\(key)")) }
    }

    /// The networks a service joins, with podman's per-network options (`alias=`, `ip=`).
    func serviceNetworks(_ service: String, _ node: ComposeNode) throws -> [(name: String, reference: String, options: [String])] {
        let path = "services.\(service)"
        if let mode = node["network_mode"] {
            guard node["networks"] == nil else { throw ComposeError("\(path).network_mode", "and networks: cannot both be given", at: mode.location) }
            switch mode.text {
            case "host"?, "none"?: return [(mode.text ?? "", mode.text ?? "", [])]
            case "bridge"?: return [("bridge", "podman", [])]
            default:
                throw ComposeError("\(path).network_mode", "'\(mode.text ?? mode.typeName)' is not translated (host, none and bridge are; join a shared network instead of service:/container:)",
                                   at: mode.location)
            }
        }
        guard let networks = node["networks"], let pairs = networks.pairs else { return [("default", try networkReference("default", path: path, at: nil), [])] }
        return try pairs.map { name, settings in
            let at = "\(path).networks.\(name)"
            var options: [String] = []
            for (key, value) in settings.pairs ?? [] {
                switch key {
                case "aliases": options += try ComposeProject.strings(value, path: "\(at).aliases").map { "alias=\($0)" }
                case "ipv4_address", "ipv6_address": options.append("ip=\(try text(value, "\(at).\(key)"))")
                case "mac_address": options.append("mac=\(try text(value, "\(at).\(key)"))")
                default: throw ComposeError("\(at).\(key)", "is not translated (aliases, ipv4_address, ipv6_address, mac_address are)", at: value.location)
                }
            }
            return (name, try networkReference(name, path: at, at: settings.location), options)
        }
    }

    /// A published port, short or long syntax, each number checked to be 1-65535.
    func port(_ node: ComposeNode, path: String) throws -> String {
        let spec: String
        if let text = node.text {
            spec = text
        } else if let pairs = node.pairs {
            var target: String?, published: String?, hostIP: String?, proto: String?
            for (key, value) in pairs {
                switch key {
                case "target": target = try text(value, "\(path).target")
                case "published": published = try text(value, "\(path).published")
                case "host_ip": hostIP = try text(value, "\(path).host_ip")
                case "protocol": proto = try text(value, "\(path).protocol")
                case "mode", "name", "app_protocol": break // swarm routing and metadata: no effect outside swarm, as in docker compose
                default: throw ComposeError("\(path).\(key)", "is not a port key (target, published, host_ip, protocol)", at: value.location)
                }
            }
            guard let target else { throw ComposeError(path, "needs target:", at: node.location) }
            var text = target
            if let published { text = "\(published):\(text)" }
            if let hostIP { text = "\(hostIP.contains(":") ? "[\(hostIP)]" : hostIP):\(published == nil ? ":" : "")\(text)" }
            if let proto { text += "/\(proto)" }
            spec = text
        } else {
            throw ComposeError(path, "must be a port mapping, not \(node.typeName)", at: node.location)
        }
        do { try PortSpec.validate(spec, argument: path) } catch let error as ModuleError { throw ComposeError(path, error.message, at: node.location) }
        return spec
    }

    /// A mount: the quadlet key and its value. Named volumes become their .volume unit, relative host paths
    /// absolute paths under the project folder.
    func mount(_ node: ComposeNode, path: String) throws -> (String, String) {
        if let text = node.text {
            var parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 1 { return ("Volume", UnitText.escaped(text)) }
            guard (2...3).contains(parts.count), !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ComposeError(path, "'\(text)' is not SOURCE:TARGET[:OPTIONS]", at: node.location)
            }
            parts[0] = try mountSource(parts[0], path: path, at: node.location)
            return ("Volume", UnitText.escaped(parts.joined(separator: ":")))
        }
        guard let pairs = node.pairs else { throw ComposeError(path, "must be SOURCE:TARGET or a mapping", at: node.location) }
        let type = node["type"]?.text ?? "volume"
        guard let target = node["target"]?.text else { throw ComposeError(path, "needs target:", at: node.location) }
        var options: [String] = []
        var source = node["source"]?.text
        var tmpfsOptions: [String] = []
        for (key, value) in pairs {
            let at = "\(path).\(key)"
            switch key {
            case "type", "target", "source", "consistency": break
            case "read_only": if value.scalar == .bool(true) { options.append("ro") }
            case "bind":
                guard type == "bind" else { throw ComposeError(at, "goes with type: bind", at: value.location) }
                for (field, setting) in value.pairs ?? [] {
                    switch field {
                    case "propagation": options.append(try text(setting, "\(at).propagation"))
                    case "selinux": options.append(try text(setting, "\(at).selinux"))
                    case "create_host_path": break // podman needs the folder; docker makes it: see the plan
                    default: throw ComposeError("\(at).\(field)", "is not translated (propagation, selinux, create_host_path are)", at: setting.location)
                    }
                }
            case "volume":
                guard type == "volume" else { throw ComposeError(at, "goes with type: volume", at: value.location) }
                for (field, setting) in value.pairs ?? [] {
                    switch field {
                    case "nocopy": if setting.scalar == .bool(true) { options.append("nocopy") }
                    default: throw ComposeError("\(at).\(field)", "is not translated (nocopy is)", at: setting.location)
                    }
                }
            case "tmpfs":
                guard type == "tmpfs" else { throw ComposeError(at, "goes with type: tmpfs", at: value.location) }
                for (field, setting) in value.pairs ?? [] {
                    switch field {
                    case "size": tmpfsOptions.append("size=\(try size(setting, "\(at).size"))")
                    case "mode": tmpfsOptions.append("mode=\(try text(setting, "\(at).mode"))")
                    default: throw ComposeError("\(at).\(field)", "is not translated (size, mode are)", at: setting.location)
                    }
                }
            default:
                throw ComposeError(at, "is not translated (type, source, target, read_only, bind, volume, tmpfs are)", at: value.location)
            }
        }
        switch type {
        case "tmpfs":
            return ("Tmpfs", UnitText.escaped(target + (tmpfsOptions.isEmpty ? "" : ":" + tmpfsOptions.joined(separator: ","))))
        case "volume", "bind":
            if type == "volume", source == nil { return ("Volume", UnitText.escaped(target)) }
            guard let given = source else { throw ComposeError(path, "a bind mount needs source:", at: node.location) }
            source = type == "volume" ? try volumeReference(given, path: path, at: node.location) : try hostPath(given, path: path, at: node.location)
            return ("Volume", UnitText.escaped("\(source ?? ""):\(target)" + (options.isEmpty ? "" : ":" + options.joined(separator: ","))))
        default:
            throw ComposeError("\(path).type", "'\(type)' is not translated (volume, bind and tmpfs are)", at: node["type"]?.location)
        }
    }

    func mountSource(_ source: String, path: String, at location: SourceLocation?) throws -> String {
        if source.hasPrefix("/") || source.hasPrefix(".") || source.hasPrefix("~") { return try hostPath(source, path: path, at: location) }
        return try volumeReference(source, path: path, at: location)
    }

    /// A host path, relative ones resolved against the project folder.
    func hostPath(_ source: String, path: String, at location: SourceLocation?) throws -> String {
        if source.hasPrefix("/") { return source }
        if source.hasPrefix("~") {
            throw ComposeError(path, "'\(source)': a path under ~ depends on who runs docker compose; write the absolute path", at: location)
        }
        guard let directory = project.directory else {
            throw ComposeError(path, "'\(source)' is relative, and the project has no folder: give project_src", at: location)
        }
        return ComposeQuadlet.join(directory, source)
    }

    static func join(_ directory: String, _ relative: String) -> String {
        var parts = directory.split(separator: "/").map(String.init)
        for part in relative.split(separator: "/") {
            switch part {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(String(part))
            }
        }
        return "/" + parts.joined(separator: "/")
    }

    /// The service's `env_file`s as absolute paths (relative ones under the project folder), optional missing
    /// ones (`required: false`) left out.
    func envFiles(_ node: ComposeNode, path: String) throws -> [String] {
        guard let items = node.items else { throw ComposeError(path, "must be a path or a list", at: node.location) }
        var files: [String] = []
        for (index, item) in items.enumerated() {
            let at = "\(path)[\(index)]"
            var required = true
            let given: String
            if let text = item.text {
                given = text
            } else if let file = item["path"]?.text {
                given = file
                required = item["required"]?.scalar != .bool(false)
                for (key, value) in item.pairs ?? [] where !["path", "required", "format"].contains(key) {
                    throw ComposeError("\(at).\(key)", "is not an env_file key (path, required)", at: value.location)
                }
            } else {
                throw ComposeError(at, "must be a path or {path, required}", at: item.location)
            }
            let absolute = try hostPath(given, path: at, at: item.location)
            if readFile(absolute) == nil {
                if required { throw ComposeError(at, "\(absolute) does not exist on the host (or is larger than 1 MiB)", at: item.location) }
                continue
            }
            files.append(absolute)
        }
        return files
    }

    /// podman's --env-file text of a service's env files (compose's dotenv reading, later files win, keys
    /// also set under environment: left to Environment=).
    func environmentText(_ service: String, _ node: ComposeNode, files: [String], path: String) throws -> String {
        var values: [(String, String)] = []
        for file in files {
            for entry in try DotEnv.parse(readFile(file) ?? "", file: file, known: project.variables) {
                guard let value = entry.value else {
                    throw ComposeError(path, "\(file) line \(entry.line): \(entry.key) has no value (docker compose would take it from its shell's environment); give it one")
                }
                guard !value.contains("\n") else {
                    throw ComposeError(path, "\(file) line \(entry.line): the value of \(entry.key) holds a line break, which podman's --env-file cannot carry")
                }
                values.removeAll { $0.0 == entry.key }
                values.append((entry.key, value))
            }
        }
        let overridden = Set((node["environment"]?.pairs ?? []).map(\.key))
        var text = "# Written by provision from \(files.joined(separator: ", ")) (compose project \(project.name), service \(service)): edit those files, not this one.\n"
        for (key, value) in values where !overridden.contains(key) { text += "\(key)=\(value)\n" }
        return text
    }

    /// Health* keys; returns how long the service may take to become healthy (seconds).
    func healthcheck(_ node: ComposeNode, path: String, into container: inout SectionBuilder) throws -> Double {
        guard let pairs = node.pairs else { throw ComposeError(path, "must be a mapping", at: node.location) }
        var interval = 30.0, timeout = 30.0, retries = 3.0, startPeriod = 0.0
        if node["disable"]?.scalar == .bool(true) {
            container.add("HealthCmd", "none")
            return 0
        }
        for (key, value) in pairs {
            let at = "\(path).\(key)"
            switch key {
            case "test":
                if let text = value.text {
                    container.add("HealthCmd", UnitText.escaped(text))
                    continue
                }
                let words = try self.words(value, path: at)
                switch words.first {
                case "CMD"?:
                    guard words.count > 1 else { throw ComposeError(at, "CMD needs a command", at: value.location) }
                    container.add("HealthCmd", UnitText.escaped(UnitText.jsonArray(Array(words.dropFirst()))))
                case "CMD-SHELL"?:
                    guard words.count == 2 else { throw ComposeError(at, "CMD-SHELL takes one command line", at: value.location) }
                    container.add("HealthCmd", UnitText.escaped(words[1]))
                case "NONE"?: container.add("HealthCmd", "none")
                default: throw ComposeError(at, "must start with CMD, CMD-SHELL or NONE (or be a command line)", at: value.location)
                }
            case "interval":
                interval = try ComposeQuadlet.seconds(try text(value, at), path: at, at: value.location)
                container.add("HealthInterval", try text(value, at))
            case "timeout":
                timeout = try ComposeQuadlet.seconds(try text(value, at), path: at, at: value.location)
                container.add("HealthTimeout", try text(value, at))
            case "start_period":
                startPeriod = try ComposeQuadlet.seconds(try text(value, at), path: at, at: value.location)
                container.add("HealthStartPeriod", try text(value, at))
            case "start_interval":
                _ = try ComposeQuadlet.seconds(try text(value, at), path: at, at: value.location)
                container.add("HealthStartupInterval", try text(value, at))
            case "retries":
                guard case .int(let count)? = value.scalar, count >= 1 else { throw ComposeError(at, "must be a whole number of at least 1", at: value.location) }
                retries = Double(count)
                container.add("HealthRetries", String(count))
            case "disable": break
            default: throw ComposeError(at, "is not a healthcheck key (test, interval, timeout, retries, start_period, start_interval, disable)", at: value.location)
            }
        }
        if node["test"] == nil { throw ComposeError(path, "needs test: (the image's own check is not visible to a unit)", at: node.location) }
        return startPeriod + (retries + 1) * (interval + timeout)
    }

    /// `restart:` as systemd's Restart= (unless-stopped is always: a unit stopped by hand stays stopped).
    func restartPolicy(_ node: ComposeNode, path: String) throws -> String {
        let text = node.scalar == .bool(false) ? "no" : node.text ?? ""
        switch text {
        case "no": return "no"
        case "always", "unless-stopped": return "always"
        case "on-failure": return "on-failure"
        default:
            if text.hasPrefix("on-failure:") {
                throw ComposeError(path, "'\(text)': a number of retries has no Restart= equivalent; write on-failure (systemd's start limits then apply)", at: node.location)
            }
            throw ComposeError(path, "must be no, always, on-failure or unless-stopped, not '\(text)'", at: node.location)
        }
    }

    func deploy(_ node: ComposeNode, path: String, container: inout SectionBuilder, podmanArguments: inout [String], restart: inout String?,
                restartDelay: inout Double?) throws {
        for (key, value) in node.pairs ?? [] {
            let at = "\(path).\(key)"
            switch key {
            case "resources":
                for (kind, limits) in value.pairs ?? [] {
                    let where_ = "\(at).\(kind)"
                    guard kind == "limits" || kind == "reservations" else {
                        throw ComposeError(where_, "is not a resources key (limits, reservations)", at: limits.location)
                    }
                    for (field, setting) in limits.pairs ?? [] {
                        let here = "\(where_).\(field)"
                        switch (kind, field) {
                        case ("limits", "cpus"): podmanArguments.append("--cpus=\(try number(setting, here))")
                        case ("limits", "memory"): podmanArguments.append("--memory=\(try size(setting, here))")
                        case ("limits", "pids"): container.add("PidsLimit", try number(setting, here))
                        case ("reservations", "memory"): podmanArguments.append("--memory-reservation=\(try size(setting, here))")
                        case ("reservations", "devices"):
                            for device in try gpuDevices(setting, path: here) { container.add("AddDevice", device) }
                        default:
                            throw ComposeError(here, "has no podman equivalent (limits: cpus, memory, pids; reservations: memory, devices)", at: setting.location)
                        }
                    }
                }
            case "restart_policy":
                for (field, setting) in value.pairs ?? [] {
                    let here = "\(at).\(field)"
                    switch field {
                    case "condition":
                        let map = ["none": "no", "on-failure": "on-failure", "any": "always"]
                        guard let condition = setting.text, let policy = map[condition] else {
                            throw ComposeError(here, "must be none, on-failure or any", at: setting.location)
                        }
                        restart = policy
                    case "delay":
                        restartDelay = try ComposeQuadlet.seconds(try text(setting, here), path: here, at: setting.location)
                    default:
                        throw ComposeError(here, "has no Restart= equivalent (condition and delay do)", at: setting.location)
                    }
                }
            case "replicas":
                guard value.scalar == .int(1) else { throw ComposeError(at, "a unit runs one container: only replicas: 1 is translated", at: value.location) }
            case "mode":
                guard value.text == "replicated" else { throw ComposeError(at, "only mode: replicated (one container) is translated", at: value.location) }
            default:
                throw ComposeError(at, "is not translated (resources, restart_policy, replicas: 1 are; the rest is for swarm)", at: value.location)
            }
        }
    }

    /// GPU reservations (`deploy.resources.reservations.devices`, `gpus:`) as CDI devices for podman.
    func gpuDevices(_ node: ComposeNode, path: String) throws -> [String] {
        guard let items = node.items else { throw ComposeError(path, "must be a list of device requests", at: node.location) }
        var devices: [String] = []
        for (index, item) in items.enumerated() {
            let at = "\(path)[\(index)]"
            let capabilities = try ComposeProject.strings(item["capabilities"], path: "\(at).capabilities")
            guard capabilities.contains("gpu") else {
                throw ComposeError("\(at).capabilities", "only GPU reservations (capabilities: [gpu]) are translated", at: item["capabilities"]?.location ?? item.location)
            }
            let driver = item["driver"]?.text ?? "nvidia"
            for (key, value) in item.pairs ?? [] where !["driver", "count", "device_ids", "capabilities"].contains(key) {
                throw ComposeError("\(at).\(key)", "is not translated (driver, count, device_ids, capabilities are)", at: value.location)
            }
            let ids = try ComposeProject.strings(item["device_ids"], path: "\(at).device_ids")
            if driver == "cdi" {
                guard !ids.isEmpty else { throw ComposeError(at, "driver: cdi needs device_ids (CDI names)", at: item.location) }
                devices += ids
                continue
            }
            guard driver == "nvidia" else {
                throw ComposeError("\(at).driver", "'\(driver)' is not translated (nvidia and cdi are)", at: item["driver"]?.location)
            }
            if !ids.isEmpty {
                guard item["count"] == nil else { throw ComposeError(at, "count and device_ids cannot both be given", at: item.location) }
                devices += ids.map { "nvidia.com/gpu=\($0)" }
            } else if let count = item["count"], count.text != "all" {
                guard case .int(let n)? = count.scalar, n >= 1 else { throw ComposeError("\(at).count", "must be all or a number of GPUs", at: count.location) }
                // As docker does: the first N GPUs.
                devices += (0..<n).map { "nvidia.com/gpu=\($0)" }
            } else {
                devices.append("nvidia.com/gpu=all")
            }
        }
        return devices
    }

    /// Seconds of a compose duration (`1m30s`, `10s`, `1.5h`, `500ms`).
    static func seconds(_ text: String, path: String, at location: SourceLocation?) throws -> Double {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { throw ComposeError(path, "is empty; a duration looks like 30s or 1m30s", at: location) }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isASCIIDigit || $0 == "." }
            rest = rest.dropFirst(number.count)
            guard let value = Double(number), let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else {
                throw ComposeError(path, "'\(text)' is not a duration such as 30s, 1m30s or 500ms", at: location)
            }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return total
    }
}

/// The entries of one unit section, in order.
struct SectionBuilder {
    var entries: [(key: String, value: String)] = []

    mutating func add(_ key: String, _ value: String) { entries.append((key, value)) }

    func section(_ name: String) -> UnitFile.Section { UnitFile.Section(name: name, entries: entries) }
}

/// Unit-file text for values that reach a podman command line: systemd expands `$VAR` and `%x` specifiers
/// there (quadlet copies the values into ExecStart=), so literal ones are doubled.
enum UnitText {
    static func escaped(_ text: String) -> String { text.replacingAll("%", with: "%%").replacingAll("$", with: "$$") }

    /// Only `%` is special in a [Unit] Description.
    static func specifiers(_ text: String) -> String { text.replacingAll("%", with: "%%") }

    /// One word of a key quadlet splits into words (Environment=, Label=, PodmanArgs=, Exec=).
    static func word(_ text: String) -> String { text.isEmpty ? "\"\"" : UnitFile.quoted(text) }

    static func command(_ words: [String]) throws -> String { words.map { word(escaped($0)) }.joined(separator: " ") }

    /// A JSON array of strings (podman's form of a many-word entrypoint or health command).
    static func jsonArray(_ words: [String]) -> String { "[" + words.map { Value.string($0).json }.joined(separator: ",") + "]" }
}
