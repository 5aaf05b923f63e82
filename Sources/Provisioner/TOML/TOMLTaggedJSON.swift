/// TOML text -> toml-test's tagged JSON (`{"type":"integer","value":"42"}`),
/// which `provision debug toml` prints for the conformance suite.
public enum TOMLTaggedJSON {
    public static func render(_ input: [UInt8], file: String) throws -> String {
        let document = try TOMLDocument(parsing: input, file: file)
        var writer = JSONWriter()
        write(document.root, to: &writer)
        writer.raw("\n")
        return writer.text
    }

    private static func write(_ table: TOMLTable, to w: inout JSONWriter) {
        w.raw("{")
        for (i, entry) in table.entries.enumerated() {
            if i > 0 { w.raw(",") }
            w.string(entry.key)
            w.raw(":")
            write(entry.value, to: &w)
        }
        w.raw("}")
    }

    private static func write(_ value: TOMLValue, to w: inout JSONWriter) {
        switch value.kind {
        case .table(let table): write(table, to: &w)
        case .array(let items):
            w.raw("[")
            for (i, item) in items.enumerated() {
                if i > 0 { w.raw(",") }
                write(item, to: &w)
            }
            w.raw("]")
        case .string(let s): tagged("string", s, to: &w)
        case .integer(let i): tagged("integer", String(i), to: &w)
        case .float(let d): tagged("float", TOMLWriter.float(d), to: &w)
        case .boolean(let b): tagged("bool", b ? "true" : "false", to: &w)
        case .dateTime(let d):
            let type: String
            switch d {
            case .offsetDateTime: type = "datetime"
            case .localDateTime: type = "datetime-local"
            case .localDate: type = "date-local"
            case .localTime: type = "time-local"
            }
            tagged(type, d.description, to: &w)
        }
    }

    private static func tagged(_ type: String, _ value: String, to w: inout JSONWriter) {
        w.raw("{\"type\":\"")
        w.raw(type)
        w.raw("\",\"value\":")
        w.string(value)
        w.raw("}")
    }
}
