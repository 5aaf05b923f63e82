/// Appends JSON text to a byte buffer. Hand-written so `provision debug` and
/// `--json` share one escaping routine and stay fast on large documents.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func raw(_ s: String) { bytes.append(contentsOf: s.utf8) }
    public mutating func raw(_ byte: UInt8) { bytes.append(byte) }

    public mutating func null() { raw("null") }
    public mutating func bool(_ b: Bool) { raw(b ? "true" : "false") }
    public mutating func int(_ i: Int) { raw(String(i)) }

    /// Doubles as Python's `json.dumps` writes them (NaN and Infinity included),
    /// so the conformance tools read the same value back.
    public mutating func double(_ d: Double) { raw(JSONWriter.pythonFloatText(d)) }

    public static func pythonFloatText(_ d: Double) -> String {
        if d.isNaN { return "NaN" }
        if d.isInfinite { return d < 0 ? "-Infinity" : "Infinity" }
        return "\(d)"
    }

    public mutating func string(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): raw("\\\"")
            case UInt8(ascii: "\\"): raw("\\\\")
            case UInt8(ascii: "\n"): raw("\\n")
            case UInt8(ascii: "\r"): raw("\\r")
            case UInt8(ascii: "\t"): raw("\\t")
            case 0..<0x20, 0x7F:
                raw("\\u00")
                bytes.append(JSONWriter.hex[Int(c >> 4)])
                bytes.append(JSONWriter.hex[Int(c & 0xF)])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)
}
