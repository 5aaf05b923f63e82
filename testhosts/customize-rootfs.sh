#!/bin/bash
# Makes a debootstrapped Debian root into a test host: systemd that is safe to run in a container on a shared
# machine, sshd with host keys made at first boot, root and "tester" (passwordless sudo) logging in by key.
# Usage: customize-rootfs.sh ROOTFS
set -euo pipefail
R=${1:?usage: customize-rootfs.sh ROOTFS}
echo testhost > "$R/etc/hostname"
: > "$R/etc/machine-id"; rm -f "$R/var/lib/dbus/machine-id"    # each container makes its own
rm -f "$R"/etc/ssh/ssh_host_*                                    # and its own host keys, at boot
cat > "$R/etc/systemd/system/ssh-hostkeys.service" <<'UNIT'
[Unit]
Description=Generate SSH host keys
Before=ssh.service
ConditionPathExists=!/etc/ssh/ssh_host_ed25519_key
[Service]
Type=oneshot
ExecStart=/usr/bin/ssh-keygen -A
RemainAfterExit=yes
[Install]
WantedBy=ssh.service
UNIT
mkdir -p "$R/etc/systemd/system/ssh.service.wants"
ln -sf ../ssh-hostkeys.service "$R/etc/systemd/system/ssh.service.wants/ssh-hostkeys.service"
# Key-only logins; the authorized keys are mounted read-only by fleet-up.sh.
cat > "$R/etc/ssh/sshd_config.d/provision-testhost.conf" <<'CONF'
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
CONF
# pam_loginuid needs CAP_AUDIT_CONTROL, which a container lacks.
sed -i 's/^session\s\+required\s\+pam_loginuid.so/session    optional     pam_loginuid.so/' "$R/etc/pam.d/sshd" "$R/etc/pam.d/login" 2>/dev/null || true
install -d -m 700 "$R/root/.ssh"
chroot "$R" useradd -m -s /bin/bash -G sudo tester 2>/dev/null || true
install -d -m 700 "$R/home/tester/.ssh"
chroot "$R" chown tester:tester /home/tester/.ssh
echo 'tester ALL=(ALL) NOPASSWD:ALL' > "$R/etc/sudoers.d/tester"
chmod 440 "$R/etc/sudoers.d/tester"
# Quiet and quick boots: no getty, no periodic jobs.
for unit in getty@tty1.service e2scrub_reap.service; do
  rm -f "$R/etc/systemd/system/getty.target.wants/$unit" "$R/etc/systemd/system/multi-user.target.wants/$unit"
done
for timer in apt-daily-upgrade.timer apt-daily.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer; do
  rm -f "$R/etc/systemd/system/timers.target.wants/$timer"
done
# Host safety: a test host must never write this machine's sysctls, binfmt handlers or modules.
for unit in systemd-pstore.service systemd-sysctl.service systemd-binfmt.service \
            proc-sys-fs-binfmt_misc.automount systemd-modules-load.service; do
  ln -sf /dev/null "$R/etc/systemd/system/$unit"
done
if [ -x "$R/usr/bin/podman" ]; then
  # crun refuses "hybrid" cgroups while cgroup2 owns a controller; this wrapper hides cgroup2 from crun only.
  # Register it as the runtime named "crun" in containers.conf (see README.md, "Nested podman").
  mkdir -p "$R/usr/local/libexec/crun-nohybrid"
  cat > "$R/usr/local/libexec/crun-nohybrid/crun" <<'WRAP'
#!/bin/sh
exec unshare -m --propagation private sh -c "umount -l /sys/fs/cgroup/unified 2>/dev/null || mount -t tmpfs -o ro,size=4k none /sys/fs/cgroup/unified 2>/dev/null; exec /usr/bin/crun \"\$@\"" crun "$@"
WRAP
  chmod 755 "$R/usr/local/libexec/crun-nohybrid/crun"
fi
chroot "$R" apt-get clean
rm -rf "$R"/var/lib/apt/lists/* "$R"/var/cache/apt/*.bin "$R"/var/log/*.log
