import Provisioner

/// A configuration file a repository module owns whole (a `.repo`, `.sources` or `.list` file, a
/// key): written atomically with its mode when its bytes differ, its mode converged otherwise,
/// removed for `absent`.
struct RepositoryFile: Sendable {
    var path: String
    var mode: UInt32
    var owner: String?
    var group: String?

    /// The change that leaves `content` (nil: nothing) at `path`, from its observed state.
    func changes(_ content: [UInt8]?, current: FileState?, observed: Observations) -> [Change] {
        guard let content else {
            guard current != nil else { return [] }
            return [Change("remove \(path)", diff: TextDiff(label: path, before: text(current?.content), after: ""), actions: [.remove(path: path)])]
        }
        let attributes = FileAttributes(mode: mode, owner: owner, group: group)
        guard let current, current.kind == .file, current.content == content else {
            return [Change(current == nil ? "create \(path)" : "update \(path)",
                           diff: TextDiff(label: path, before: text(current?.content), after: text(content)),
                           actions: [.writeFile(path: path, content: content, attributes: attributes, backup: false)])]
        }
        var wanted = FileAttributes()
        if current.mode != mode { wanted.mode = mode }
        if let owner, owner != current.owner { wanted.owner = owner }
        if let group, group != current.group { wanted.group = group }
        guard !wanted.isEmpty else { return [] }
        return [Change("\(wanted) on \(path)", actions: [.setAttributes(path: path, attributes: wanted)])]
    }

    func text(_ bytes: [UInt8]?) -> String { bytes.map { String(decoding: $0, as: UTF8.self) } ?? "" }
}

extension ModuleArguments {
    /// A mode argument given as octal digits (Ansible's `raw` modes of the repository modules).
    func octalMode(_ name: String, default fallback: UInt32) throws -> UInt32 {
        switch self[name] {
        case nil: return fallback
        case .int(let bits)?: return UInt32(bits)
        case .string(let text)?:
            guard let bits = FileMode.parse(text) else { throw ModuleError("mode must be octal digits such as '0644', not '\(text)'", argument: name) }
            return bits
        case let other?: throw ModuleError("mode must be octal digits such as '0644', not \(other.pythonText)", argument: name)
        }
    }
}
