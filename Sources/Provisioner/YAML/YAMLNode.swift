/// One node of a YAML document after composition: aliases resolved, merge
/// keys applied, scalars resolved the way PyYAML (and so Ansible) resolves them.
/// Every node keeps where it was written so later errors can point at it.
public struct YAMLNode: Sendable {
    public enum Value: Sendable {
        case null
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        case sequence([YAMLNode])
        case mapping([YAMLPair])
    }

    public enum Style: Sendable {
        case plain, singleQuoted, doubleQuoted, literal, folded, flow, block
    }

    public var value: Value
    public var mark: SourceMark
    public var style: Style
    /// Tagged `!unsafe` (Ansible's tag for text that must never be rendered as a template).
    public var isUnsafe = false
    /// Nodes in the fully expanded subtree; bounds alias expansion ("billion laughs").
    var weight: Int

    public init(_ value: Value, mark: SourceMark, style: Style = .plain) {
        self.value = value
        self.mark = mark
        self.style = style
        switch value {
        case .sequence(let items): weight = items.reduce(1) { $0 + $1.weight }
        case .mapping(let pairs): weight = pairs.reduce(1) { $0 + $1.key.weight + $1.value.weight }
        default: weight = 1
        }
    }

    public var isNull: Bool { if case .null = value { return true } else { return false } }

    /// The string of a string scalar, nil otherwise.
    public var string: String? { if case .string(let s) = value { return s } else { return nil } }

    /// Mapping entries, nil when this node is not a mapping.
    public var pairs: [YAMLPair]? { if case .mapping(let p) = value { return p } else { return nil } }

    /// Sequence items, nil when this node is not a sequence.
    public var items: [YAMLNode]? { if case .sequence(let s) = value { return s } else { return nil } }

    /// The value for a string key of a mapping.
    public subscript(key: String) -> YAMLNode? {
        pairs?.last { $0.key.string == key }?.value
    }
}

public struct YAMLPair: Sendable {
    public var key: YAMLNode
    public var value: YAMLNode

    public init(key: YAMLNode, value: YAMLNode) {
        self.key = key
        self.value = value
    }
}

/// A parsed YAML stream: one root node per document, all from one file.
public struct YAMLStream: Sendable {
    public var file: String
    public var documents: [YAMLNode]

    /// Reads every document of a YAML stream. Throws `ParseError` pointing at the offending line.
    public init(_ bytes: [UInt8], file: String) throws {
        self.file = file
        if bytes.starts(with: Array("$ANSIBLE_VAULT;".utf8)) {
            throw ParseError("this file is encrypted with Ansible Vault, which provision cannot decrypt; give it decrypted"
                + " (ansible-vault decrypt) or keep its secrets out of the playbook", at: SourceLocation(file: file, line: 1, column: 1))
        }
        documents = try YAMLParser(bytes, file: file).parseStream()
    }

    public init(_ text: String, file: String) throws {
        try self.init(Array(text.utf8), file: file)
    }

    public func location(of node: YAMLNode) -> SourceLocation {
        SourceLocation(file: file, mark: node.mark)
    }
}
