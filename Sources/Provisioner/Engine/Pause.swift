import Foundation

/// `pause`: wait `seconds` or `minutes`, or for Enter after `prompt`. Without a terminal on stdin
/// a prompt does not wait (a warning says so) and `user_input` is empty, as in Ansible. It runs
/// once for the whole batch.
extension HostRun {
    func pause(_ task: Task, _ templar: Templar) throws -> ItemOutcome {
        let args = try actionArguments(task, templar)
        func number(_ key: String) throws -> Double? {
            guard let value = args[key], !value.isNull else { return nil }
            guard let n = Double(PythonString.strip(value.pythonText)), n >= 0 else {
                throw ModuleError("pause: '\(key)' must be a number, not \(value.pythonText)", argument: key)
            }
            return n
        }
        let seconds = try number("seconds"), minutes = try number("minutes")
        if seconds != nil && minutes != nil { throw ModuleError("pause: give seconds or minutes, not both", argument: "minutes") }
        let echo = args["echo"].map { ModuleArguments.boolean($0) ?? true } ?? true
        let start = Date()
        var result = ValueDict()
        var input = ""
        if let wait = seconds ?? minutes.map({ $0 * 60 }) {
            if let prompt = args["prompt"]?.pythonText { reporter.warning("\(host): \(prompt)") }
            Thread.sleep(forTimeInterval: wait)
        } else if isatty(STDIN_FILENO) == 1 {
            FileHandle.standardError.write(Data(((args["prompt"]?.pythonText ?? "Press enter to continue") + ":\n").utf8))
            input = readLine(strippingNewline: true) ?? ""
        } else {
            let warning = "Not waiting for response to prompt as stdin is not interactive"
            reporter.warning(warning)
            result["warnings"] = .list([.string(warning)])
        }
        let stop = Date()
        let elapsed = stop.timeIntervalSince(start)
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss.SSSSSS"
        result["changed"] = false
        result["rc"] = 0
        result["start"] = .string(formatter.string(from: start))
        result["stop"] = .string(formatter.string(from: stop))
        result["delta"] = .int(Int(elapsed))
        result["echo"] = .bool(echo)
        result["user_input"] = .string(input)
        result["stderr"] = ""
        result["stdout"] = .string(minutes != nil || seconds == nil
            ? "Paused for \(PythonFloat.repr(((elapsed / 60) * 100).rounded() / 100)) minutes"
            : "Paused for \(PythonFloat.repr((elapsed * 100).rounded() / 100)) seconds")
        return ItemOutcome(status: .ok, result: result)
    }
}
