/// YAML stream -> one JSON value per document, the way `json.dumps` writes what
/// PyYAML loaded (non-string keys become their JSON text). Drives the
/// conformance tools through `provision debug yaml`.
public enum YAMLJSON {
    public static func render(_ input: [UInt8], file: String) throws -> String {
        let stream = try YAMLStream(input, file: file)
        var w = JSONWriter()
        for document in stream.documents {
            write(document, to: &w)
            w.raw(0x0A)
        }
        return w.text
    }

    static func write(_ node: YAMLNode, to w: inout JSONWriter) {
        switch node.value {
        case .null: w.null()
        case .bool(let v): w.bool(v)
        case .int(let v): w.int(v)
        case .float(let v): w.double(v)
        case .string(let s): w.string(s)
        case .sequence(let items):
            w.raw(UInt8(ascii: "["))
            for (n, item) in items.enumerated() {
                if n > 0 { w.raw(UInt8(ascii: ",")) }
                write(item, to: &w)
            }
            w.raw(UInt8(ascii: "]"))
        case .mapping(let pairs):
            w.raw(UInt8(ascii: "{"))
            for (n, pair) in pairs.enumerated() {
                if n > 0 { w.raw(UInt8(ascii: ",")) }
                w.string(keyText(pair.key))
                w.raw(UInt8(ascii: ":"))
                write(pair.value, to: &w)
            }
            w.raw(UInt8(ascii: "}"))
        }
    }

    /// A key as `json.dumps` turns a Python dict key into a string.
    static func keyText(_ key: YAMLNode) -> String {
        switch key.value {
        case .null: return "null"
        case .bool(let v): return v ? "true" : "false"
        case .int(let v): return String(v)
        case .float(let v): return JSONWriter.pythonFloatText(v)
        case .string(let s): return s
        case .sequence, .mapping: return ""
        }
    }
}
