/// Building nodes: tags, anchors, merge keys (`<<`) and duplicate keys.
extension YAMLParser {
    func empty(_ props: Properties?, _ m: SourceMark) throws -> YAMLNode {
        try makeScalar("", style: .plain, props: props, mark: m)
    }

    func makeScalar(_ text: String, style: YAMLNode.Style, props: Properties?, mark m: SourceMark) throws -> YAMLNode {
        let value: YAMLNode.Value
        if let tag = props?.tag {
            do {
                value = try YAMLResolver.construct(text, tag: tag, plain: style == .plain)
            } catch let failure as YAMLResolver.Failure {
                throw error(failure.message, at: m)
            }
        } else if style == .plain {
            value = YAMLResolver.resolvePlain(text)
        } else {
            value = .string(text)
        }
        return anchored(YAMLNode(value, mark: m, style: style), props)
    }

    func makeSequence(_ items: [YAMLNode], style: YAMLNode.Style, props: Properties?, mark m: SourceMark) throws -> YAMLNode {
        try checkCollectionTag(props, expected: "tag:yaml.org,2002:seq", kind: "sequence")
        return anchored(YAMLNode(.sequence(items), mark: m, style: style), props)
    }

    func makeMapping(_ pairs: [YAMLPair], style: YAMLNode.Style, props: Properties?, mark m: SourceMark) throws -> YAMLNode {
        try checkCollectionTag(props, expected: "tag:yaml.org,2002:map", kind: "mapping")
        return anchored(YAMLNode(.mapping(try merged(pairs)), mark: m, style: style), props)
    }

    func checkCollectionTag(_ props: Properties?, expected: String, kind: String) throws {
        guard let tag = props?.tag, tag != "!", tag != expected, tag != "!unsafe" else { return }
        if tag == "!vault" { throw error(YAMLResolver.vaultRefusal, at: props?.mark ?? mark) }
        throw error("the tag \(YAMLResolver.shortTag(tag)) cannot be used on a \(kind)", at: props?.mark ?? mark)
    }

    func anchored(_ node: YAMLNode, _ props: Properties?) -> YAMLNode {
        var node = node
        node.isUnsafe = props?.tag == "!unsafe"
        if let name = props?.anchor { anchors[name] = node }
        return node
    }

    /// Applies `<<` merge keys as PyYAML does (own keys win, then later `<<`
    /// entries, then earlier maps in a `<<` list) and rejects duplicate keys.
    func merged(_ pairs: [YAMLPair]) throws -> [YAMLPair] {
        var own: [YAMLPair] = []
        own.reserveCapacity(pairs.count)
        var sources: [[YAMLNode]] = []
        var seen = KeySet()
        for pair in pairs {
            if pair.key.style == .plain, pair.key.string == "<<" {
                sources.append(try mergeSources(pair.value, at: pair.key.mark))
                continue
            }
            let identity = try keyIdentity(pair.key)
            if let first = seen.insert(identity, pair.key.mark) {
                throw error("duplicate key \(YAMLResolver.display(pair.key)) in this mapping (first defined at line \(first.line))", at: pair.key.mark)
            }
            own.append(pair)
        }
        guard !sources.isEmpty else { return own }
        var result: [YAMLPair] = []
        var present = Set(try own.map { try keyIdentity($0.key) })
        for group in sources.reversed() {
            for map in group {
                for pair in map.pairs ?? [] {
                    let identity = try keyIdentity(pair.key)
                    if present.insert(identity).inserted { result.append(pair) }
                }
            }
        }
        return result + own
    }

    func mergeSources(_ value: YAMLNode, at m: SourceMark) throws -> [YAMLNode] {
        switch value.value {
        case .mapping: return [value]
        case .sequence(let items) where items.allSatisfy({ $0.pairs != nil }): return items
        default: throw error("'<<' (merge key) expects a mapping or a list of mappings, usually aliases like '<<: *defaults'", at: m)
        }
    }

    func keyIdentity(_ key: YAMLNode) throws -> KeyIdentity {
        switch key.value {
        case .null: return .null
        case .bool(let v): return .bool(v)
        case .int(let v): return .int(v)
        case .float(let v): return .float(v.bitPattern)
        case .string(let v): return .string(Array(v.utf8))
        case .sequence, .mapping:
            throw error("a mapping key must be a scalar, not a \(key.items != nil ? "list" : "mapping") (Ansible cannot use it)", at: key.mark)
        }
    }

    /// Strings compare by code points as Python does: Swift's `==` would make
    /// "e\u{301}" and "é" one key.
    enum KeyIdentity: Hashable {
        case null, bool(Bool), int(Int), float(UInt64), string([UInt8])
    }

    /// Duplicate detection: a linear scan for small mappings, a hash set past that.
    struct KeySet {
        var identities: [KeyIdentity] = []
        var marks: [SourceMark] = []
        var index: [KeyIdentity: Int]?

        /// Returns the first mark of an equal key, or records this one.
        mutating func insert(_ identity: KeyIdentity, _ mark: SourceMark) -> SourceMark? {
            if let index {
                if let k = index[identity] { return marks[k] }
            } else if let k = identities.firstIndex(of: identity) {
                return marks[k]
            }
            identities.append(identity)
            marks.append(mark)
            if index != nil {
                index?[identity] = identities.count - 1
            } else if identities.count > 16 {
                index = Dictionary(uniqueKeysWithValues: identities.enumerated().map { ($1, $0) })
            }
            return nil
        }
    }
}
