/// File permission modes as Ansible accepts them: octal text or symbolic clauses.
public enum FileMode {
    /// `"0644"`, `"644"`, `"0o644"` -> 0o644.
    public static func parse(_ text: String) -> UInt32? {
        var digits = Substring(text)
        if digits.hasPrefix("0o") { digits = digits.dropFirst(2) }
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ ("0"..."7").contains($0) }),
              let value = UInt32(digits, radix: 8), value <= 0o7777 else { return nil }
        return value
    }

    public static func isSymbolic(_ text: String) -> Bool {
        applySymbolic(text, to: 0, isDirectory: false) != nil
    }

    /// Applies `u+rwx,g-w,o=r` style clauses (chmod's syntax, `X` included).
    public static func applySymbolic(_ text: String, to current: UInt32, isDirectory: Bool) -> UInt32? {
        var mode = current
        for clause in text.split(separator: ",") {
            var who: UInt32 = 0
            var chars = Substring(clause)
            while let c = chars.first, "ugoa".contains(c) {
                switch c {
                case "u": who |= 0o4700
                case "g": who |= 0o2070
                case "o": who |= 0o1007
                default: who |= 0o7777
                }
                chars.removeFirst()
            }
            if who == 0 { who = 0o7777 }
            guard let op = chars.first, "+-=".contains(op) else { return nil }
            chars.removeFirst()
            var bits: UInt32 = 0
            for c in chars {
                switch c {
                case "r": bits |= 0o444
                case "w": bits |= 0o222
                case "x": bits |= 0o111
                case "X": if isDirectory || current & 0o111 != 0 { bits |= 0o111 }
                case "s": bits |= 0o6000
                case "t": bits |= 0o1000
                default: return nil
                }
            }
            bits &= who
            switch op {
            case "+": mode |= bits
            case "-": mode &= ~bits
            default: mode = (mode & ~(who & 0o777)) | bits
            }
        }
        return mode
    }
}
