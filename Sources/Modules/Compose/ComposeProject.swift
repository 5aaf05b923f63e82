import Foundation
import Provisioner

/// A compose file the project reads: its path (absolute on the host, or as given to `compose convert`) and text.
struct ComposeSource: Sendable {
    var path: String
    var text: String
}

/// A compose project as `docker compose` assembles it: its files merged in order (compose's merge rules),
/// variables from its dotenv files, profiles applied, and its name.
struct ComposeProject: Sendable {
    /// The project name (containers, volumes and networks are named after it).
    var name: String
    /// The folder relative paths are resolved against (on the host).
    var directory: String?
    /// The merged document.
    var root: ComposeNode
    /// The services that run (their profiles are enabled), in the order the files name them.
    var services: [(name: String, node: ComposeNode)]
    /// Services left out because none of their profiles is enabled.
    var inactive: [String]
    var variables: [String: String]

    /// Top-level keys compose files may hold; other keys (`x-*` extensions aside) are errors.
    static let topLevel: Set<String> = ["version", "name", "services", "volumes", "networks", "secrets", "configs", "include"]

    /// `variables` come from the dotenv files (`.env`, or the task's env_file); `interpolate: false` keeps
    /// `${...}` as written (podman-compose interpolates itself).
    static func load(_ files: [ComposeSource], variables: [String: String], profiles: [String], name explicit: String?,
                     directory: String?, interpolate: Bool = true) throws -> ComposeProject {
        try load(nodes: try files.map { try ComposeNode.parse($0.text, file: $0.path) }, variables: variables, profiles: profiles,
                 name: explicit, directory: directory, interpolate: interpolate)
    }

    /// The project of documents already read (files, or a task's inline definition).
    static func load(nodes: [ComposeNode], variables: [String: String], profiles: [String], name explicit: String?,
                     directory: String?, interpolate: Bool = true) throws -> ComposeProject {
        guard !nodes.isEmpty else { throw ComposeError("", "no compose file") }
        let interpolation = ComposeInterpolation(variables: variables)
        var merged: ComposeNode?
        for parsed in nodes {
            var node = parsed
            for (key, value) in node.pairs ?? [] where !key.hasPrefix("x-") && !topLevel.contains(key) {
                throw ComposeError(key, "is not a top-level key of a compose file (services, volumes, networks, name, ...)", at: value.location)
            }
            if interpolate { node = try interpolation.apply(node, path: "") }
            node = try normalized(node)
            merged = merged.map { merge($0, node, path: "") } ?? node
        }
        let root = merged ?? ComposeNode(.map([]))
        let name = try projectName(explicit ?? variables["COMPOSE_PROJECT_NAME"], root: root, directory: directory)
        var enabled = Set(profiles)
        if profiles.isEmpty, let fromEnvironment = variables["COMPOSE_PROFILES"] {
            enabled = Set(fromEnvironment.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        }
        var services: [(String, ComposeNode)] = []
        var inactive: [String] = []
        guard let declared = root["services"] else { throw ComposeError("services", "the project declares no services", at: root.location) }
        guard let pairs = declared.pairs else { throw ComposeError("services", "must be a mapping of service names to services, not \(declared.typeName)", at: declared.location) }
        for (service, node) in pairs {
            guard node.pairs != nil else { throw ComposeError("services.\(service)", "a service is a mapping, not \(node.typeName)", at: node.location) }
            let own = try strings(node["profiles"], path: "services.\(service).profiles")
            if own.isEmpty || enabled.contains("*") || !enabled.isDisjoint(with: own) { services.append((service, node)) } else { inactive.append(service) }
        }
        return ComposeProject(name: name, directory: directory, root: root, services: services, inactive: inactive, variables: variables)
    }

    /// Compose's rules: explicit, then `name:`, then the folder's name made valid (lower case, [a-z0-9_-]).
    static func projectName(_ explicit: String?, root: ComposeNode, directory: String?) throws -> String {
        if let given = explicit ?? root["name"]?.text {
            guard isProjectName(given) else {
                throw ComposeError("name", "'\(given)' is not a project name: lower-case letters, digits, - and _, starting with a letter or digit",
                                   at: explicit == nil ? root["name"]?.location : nil)
            }
            return given
        }
        let base = (directory.map { URL(fileURLWithPath: $0).lastPathComponent } ?? "").lowercased()
        let cleaned = String(base.unicodeScalars.filter { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
            .map(Character.init)).drop { $0 == "-" || $0 == "_" }
        guard !cleaned.isEmpty else { throw ComposeError("name", "the project has no name: give project_name (or name: in the compose file)") }
        return String(cleaned)
    }

    static func isProjectName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, ("a"..."z").contains(first) || ("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    /// A string or a list of strings (scalars), as compose allows for `profiles`, `dns`, `env_file`, ...
    static func strings(_ node: ComposeNode?, path: String) throws -> [String] {
        guard let node, !node.isNull else { return [] }
        if let text = node.text { return [text] }
        guard let items = node.items else { throw ComposeError(path, "must be text or a list, not \(node.typeName)", at: node.location) }
        return try items.enumerated().map { index, item in
            guard let text = item.text else { throw ComposeError("\(path)[\(index)]", "must be text, not \(item.typeName)", at: item.location) }
            return text
        }
    }

    // MARK: Normalizing and merging

    /// Keys written either as a list or as a mapping become mappings, so that files merge key by key.
    static func normalized(_ root: ComposeNode) throws -> ComposeNode {
        var root = root
        guard let services = root["services"], let pairs = services.pairs else { return root }
        var out: [(key: String, value: ComposeNode)] = []
        for (name, service) in pairs {
            var service = service
            let path = "services.\(name)"
            for key in ["environment", "labels", "annotations", "sysctls"] {
                if let node = service[key] { service.set(key, try keyValues(node, path: "\(path).\(key)", separator: "=")) }
            }
            if let node = service["depends_on"], let items = node.items {
                service.set("depends_on", ComposeNode(.map(try items.enumerated().map { index, item in
                    guard let text = item.text else { throw ComposeError("\(path).depends_on[\(index)]", "must be a service name", at: item.location) }
                    return (text, ComposeNode(.map([("condition", .scalar(.string("service_started"), at: item.location))]), at: item.location))
                }), at: node.location))
            }
            if let node = service["networks"], let items = node.items {
                service.set("networks", ComposeNode(.map(try items.enumerated().map { index, item in
                    guard let text = item.text else { throw ComposeError("\(path).networks[\(index)]", "must be a network name", at: item.location) }
                    return (text, .scalar(.null, at: item.location))
                }), at: node.location))
            }
            for key in ["env_file", "dns", "dns_search", "tmpfs", "profiles"] {
                if let node = service[key], node.text != nil { service.set(key, ComposeNode(.list([node]), at: node.location)) }
            }
            out.append((name, service))
        }
        var normalizedServices = services
        normalizedServices.kind = .map(out)
        root.set("services", normalizedServices)
        return root
    }

    /// `[K=V, K]` or `{K: V}` as a mapping (a bare K maps to null).
    static func keyValues(_ node: ComposeNode, path: String, separator: Character) throws -> ComposeNode {
        if node.pairs != nil || node.isNull { return node }
        guard let items = node.items else { throw ComposeError(path, "must be a mapping or a list of KEY=value, not \(node.typeName)", at: node.location) }
        var pairs: [(String, ComposeNode)] = []
        for (index, item) in items.enumerated() {
            guard let text = item.text else { throw ComposeError("\(path)[\(index)]", "must be KEY=value, not \(item.typeName)", at: item.location) }
            if let cut = text.firstIndex(of: separator) {
                pairs.append((String(text[..<cut]), .scalar(.string(String(text[text.index(after: cut)...])), at: item.location)))
            } else {
                pairs.append((text, .scalar(.null, at: item.location)))
            }
        }
        return ComposeNode(.map(pairs), at: node.location)
    }

    /// Compose's merge of a later file into an earlier one: mappings key by key, `command`, `entrypoint` and
    /// a health check's `test` replaced, volumes by their target, other lists appended without repeats.
    static func merge(_ base: ComposeNode, _ other: ComposeNode, path: String) -> ComposeNode {
        switch (base.kind, other.kind) {
        case (.map(let mine), .map(let theirs)):
            var result = mine
            for (key, value) in theirs {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if let index = result.lastIndex(where: { $0.key == key }) {
                    result[index].value = merge(result[index].value, value, path: child)
                } else {
                    result.append((key, value))
                }
            }
            return ComposeNode(.map(result), at: base.location)
        case (.list(let mine), .list(let theirs)):
            let last = path.split(separator: ".").last.map(String.init) ?? ""
            if ["command", "entrypoint", "test"].contains(last) { return other }
            if last == "volumes", path.hasPrefix("services.") {
                var result = mine
                for item in theirs {
                    if let target = volumeTarget(item), let index = result.firstIndex(where: { volumeTarget($0) == target }) {
                        result[index] = item
                    } else {
                        result.append(item)
                    }
                }
                return ComposeNode(.list(result), at: base.location)
            }
            var result = mine
            for item in theirs where !result.contains(where: { $0.value == item.value }) { result.append(item) }
            return ComposeNode(.list(result), at: base.location)
        default:
            return other
        }
    }

    static func volumeTarget(_ node: ComposeNode) -> String? {
        if let text = node.text {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count >= 2 ? String(parts[1]) : String(parts[0])
        }
        return node["target"]?.text
    }
}
