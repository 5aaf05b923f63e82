import Foundation

/// Turns what ssh (or sudo behind it) printed when a session ended into a message
/// that says what happened and what to do about it.
enum SSHFailure {
    static func explain(stderr: String, exitStatus: Int32?, target: SSHTarget, become: Become?, connected: Bool) -> String {
        let lines = stderr.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        func line(containing needle: String) -> String? { lines.first { $0.contains(needle) } }
        let host = target.host, port = target.port ?? 22
        let known = target.knownHostsFile ?? "~/.ssh/known_hosts"

        if stderr.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") || stderr.contains("has changed and you have requested strict checking") {
            let file = target.knownHostsFile.map { " -f '\($0)'" } ?? ""
            let offending = line(containing: "Offending").map { " (\($0))" } ?? ""
            return "the host key of \(host) (port \(port)) has CHANGED since it was recorded in \(known)\(offending):"
                + " refusing to connect. This can mean the connection is being intercepted. If the host was reinstalled,"
                + " verify its new key, remove the old one with `ssh-keygen\(file) -R '\(target.knownHostsName)'`, then add the new one"
                + " (`ssh-keyscan -p \(port) \(host) >> \(known)` after checking it)"
        }
        if stderr.contains("host key is known for") || stderr.contains("Host key verification failed") {
            return "the host key of \(host) (port \(port)) is unknown (not in \(known)), and host keys are checked."
                + " Verify the host's key, then add it: `ssh-keyscan -p \(port) \(host) >> \(known)`"
                + " (or set host_key_checking = False in ansible.cfg to skip the check)"
        }
        if let denied = line(containing: "Permission denied (") {
            return "authentication failed for \(target.user ?? "the default user")@\(host):\(port) (\(denied))."
                + " Check ansible_user and ansible_ssh_private_key_file, or load the key into ssh-agent;"
                + " provision never types passwords (ssh runs with BatchMode=yes)"
        }
        let login = target.user ?? target.configuredUser() ?? "the ssh user"
        let becomeUser = become?.user ?? "root"
        if stderr.contains("sudo: a password is required") || stderr.contains("sudo: a terminal is required") {
            return "sudo needs a password on \(host); allow NOPASSWD for \(login)"
                + " (e.g. `\(login) ALL=(ALL) NOPASSWD: ALL` in /etc/sudoers.d/\(login)):"
                + " provision runs `sudo -n` to become \(becomeUser) and never types passwords"
        }
        if stderr.contains("must have a tty to run sudo") {
            return "sudo on \(host) insists on a terminal (Defaults requiretty); allow \(login) to run it without one"
                + " (`Defaults:\(login) !requiretty` in /etc/sudoers.d/\(login))"
        }
        if let refused = line(containing: "is not in the sudoers file") ?? line(containing: "is not allowed to")
            ?? line(containing: "may not run sudo") {
            return "sudo refused to let \(login) become \(becomeUser) on \(host) (\(refused))"
        }
        if stderr.contains("sudo: not found") || stderr.contains("sudo: command not found") {
            return "sudo is not installed on \(host), and becoming \(becomeUser) needs it"
        }
        let connectErrors = ["Connection refused", "Connection timed out", "Operation timed out", "No route to host",
                             "Could not resolve hostname", "Name or service not known", "Network is unreachable",
                             "Connection reset", "Connection closed by", "kex_exchange_identification", "banner exchange"]
        if !connected, let reason = lines.first(where: { line in connectErrors.contains { line.contains($0) } }) {
            // "ssh: connect to host H port P: Connection refused" says the host twice.
            let short = reason.hasPrefix("ssh: ") ? reason.components(separatedBy: ": ").last ?? reason : reason
            return "cannot connect to \(host) port \(port): \(short)"
        }
        let status = exitStatus.map { " (ssh exited with status \($0))" } ?? ""
        let detail = lines.suffix(3).joined(separator: "; ")
        if connected {
            return "the connection to \(target) was lost\(status)" + (detail.isEmpty ? "" : ": \(detail)")
        }
        return "ssh to \(target) failed\(status)" + (detail.isEmpty ? "" : ": \(detail)")
    }
}
