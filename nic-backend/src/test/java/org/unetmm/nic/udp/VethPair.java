package org.unetmm.nic.udp;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * A second "host" for tests: a network namespace joined to this one by a veth pair, addressed
 * from 198.18.0.0/15 (RFC 2544 benchmarking space, never routed): this end {@code .1}, the
 * namespace's end {@code .2} of a /24 picked at random and checked unused. Nothing is routed
 * beyond the pair. Names carry this JVM's pid and a random suffix, so runs never collide, and
 * {@link #create()} first removes namespaces left by test JVMs that died before cleaning up.
 *
 * <p>{@link #close()} deletes the namespace, which destroys the interface inside it and with it
 * its peer here; it runs whether the test passed or failed.
 */
final class VethPair implements AutoCloseable {
    private static final String PREFIX = "unetmm-udp-";
    private static final long COMMAND_SECONDS = 20;

    final String namespace;
    final String localLink;
    final String remoteLink;
    final String localAddress;
    final String remoteAddress;
    private boolean open = true;

    private VethPair(String namespace, String localLink, String remoteLink, String localAddress, String remoteAddress) {
        this.namespace = namespace;
        this.localLink = localLink;
        this.remoteLink = remoteLink;
        this.localAddress = localAddress;
        this.remoteAddress = remoteAddress;
    }

    /** Why this machine cannot make namespaces, or null when it can (root, and the ip tool present). */
    static String unavailableReason() {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "network namespaces need root (running as " + System.getProperty("user.name") + ")";
        }
        if (!Files.isExecutable(Path.of("/usr/sbin/ip")) && !Files.isExecutable(Path.of("/sbin/ip"))
                && !Files.isExecutable(Path.of("/usr/bin/ip")) && !Files.isExecutable(Path.of("/bin/ip"))) {
            return "the ip tool (iproute2) is not installed";
        }
        try {
            Result probe = run("ip", "netns", "list");
            if (probe.exit != 0) {
                return "'ip netns list' failed: " + probe.output;
            }
        } catch (IOException e) {
            return "cannot run ip: " + e.getMessage();
        }
        return null;
    }

    static VethPair create() throws IOException {
        sweepLeftovers();
        long pid = ProcessHandle.current().pid();
        Random random = new Random();
        String suffix = Integer.toHexString(random.nextInt(1 << 16) | (1 << 16)).substring(1);
        String namespace = PREFIX + pid + "-" + suffix;
        String tag = Long.toHexString(pid & 0xFFFFF) + suffix; // interface names: at most 15 characters
        String localLink = "um" + tag + "a";
        String remoteLink = "um" + tag + "b";
        String subnet = freeSubnet(random);
        VethPair pair = new VethPair(namespace, localLink, remoteLink, subnet + ".1", subnet + ".2");
        try {
            check("ip", "netns", "add", namespace);
            check("ip", "link", "add", localLink, "mtu", "1500", "type", "veth", "peer", "name", remoteLink, "mtu", "1500");
            check("ip", "link", "set", remoteLink, "netns", namespace);
            check("ip", "addr", "add", pair.localAddress + "/24", "dev", localLink);
            check("ip", "link", "set", localLink, "up");
            check("ip", "-n", namespace, "addr", "add", pair.remoteAddress + "/24", "dev", remoteLink);
            check("ip", "-n", namespace, "link", "set", remoteLink, "up");
            check("ip", "-n", namespace, "link", "set", "lo", "up");
        } catch (IOException | RuntimeException e) {
            pair.close();
            throw e;
        }
        return pair;
    }

    /** The prefix that runs a command inside the namespace. */
    List<String> exec() {
        return List.of("ip", "netns", "exec", namespace);
    }

    /**
     * Real loss, from the kernel: an nftables rule on the input hook of each end drops
     * {@code percent} % of the UDP datagrams arriving for its port (the namespace's for
     * {@code remotePort}, this end's, on the veth only, for {@code localPort}). An input-hook
     * drop is invisible to the sender, as loss on a link is (an output-hook drop makes sendto
     * fail instead). Closing removes this end's table; the namespace's goes with the namespace.
     */
    AutoCloseable loseInbound(int percent, int localPort, int remotePort) throws IOException {
        String table = "unetmm_loss_" + localLink;
        nft(List.of("ip", "netns", "exec", namespace), table, "udp dport " + remotePort + " numgen random mod 100 < "
                + percent + " counter drop");
        nft(List.of(), table, "iifname \"" + localLink + "\" udp dport " + localPort + " numgen random mod 100 < "
                + percent + " counter drop");
        return () -> run("nft", "delete", "table", "inet", table);
    }

    /** The datagrams the namespace's loss rule dropped so far. */
    long droppedInNamespace() throws IOException {
        String listing = run("ip", "netns", "exec", namespace, "nft", "list", "table", "inet", "unetmm_loss_" + localLink).output;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("counter packets (\\d+)").matcher(listing);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static void nft(List<String> prefix, String table, String rule) throws IOException {
        List<String> base = new ArrayList<>(prefix);
        base.add("nft");
        List<String> add = new ArrayList<>(base);
        add.addAll(List.of("add", "table", "inet", table));
        check(add.toArray(String[]::new));
        add = new ArrayList<>(base);
        add.addAll(List.of("add", "chain", "inet", table, "in", "{ type filter hook input priority 0 ; }"));
        check(add.toArray(String[]::new));
        add = new ArrayList<>(base);
        add.addAll(List.of("add", "rule", "inet", table, "in"));
        add.addAll(List.of(rule.split(" ")));
        check(add.toArray(String[]::new));
    }

    /** Why nftables cannot be used here, or null when it can. */
    static String nftUnavailableReason() {
        try {
            Result probe = run("nft", "--version");
            return probe.exit == 0 ? null : "nft --version failed: " + probe.output;
        } catch (IOException e) {
            return "the nft tool (nftables) is not installed: " + e.getMessage();
        }
    }

    /** A /24 in 198.18.0.0/15 that no interface of this namespace uses yet. */
    private static String freeSubnet(Random random) throws IOException {
        String used = run("ip", "-4", "-o", "addr", "show").output;
        for (int attempt = 0; attempt < 64; attempt++) {
            int third = random.nextInt(512); // 198.18.0.0 .. 198.19.255.0
            String subnet = (third < 256 ? "198.18." + third : "198.19." + (third - 256));
            if (!used.contains(" " + subnet + ".")) {
                return subnet;
            }
        }
        throw new IllegalStateException("no free /24 in 198.18.0.0/15 after 64 tries: " + used);
    }

    /** Deletes namespaces named after test JVMs that are no longer running. */
    private static void sweepLeftovers() throws IOException {
        for (String line : run("ip", "netns", "list").output.split("\n")) {
            String name = line.trim().split(" ")[0];
            if (!name.startsWith(PREFIX)) {
                continue;
            }
            String[] parts = name.substring(PREFIX.length()).split("-");
            try {
                long pid = Long.parseLong(parts[0]);
                if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
            } catch (NumberFormatException e) {
                continue;
            }
            run("ip", "netns", "del", name);
        }
        sweepLossTables();
    }

    /**
     * Removes this end's loss tables whose veth is gone: a test JVM killed before its close leaves
     * its table in this namespace when its namespace (and with it the veth) is swept.
     */
    private static void sweepLossTables() throws IOException {
        Result tables;
        try {
            tables = run("nft", "list", "tables");
        } catch (IOException e) {
            return; // nftables not installed: nothing can have been left
        }
        for (String line : tables.output.split("\n")) {
            String[] words = line.trim().split(" ");
            if (words.length == 3 && words[0].equals("table") && words[2].startsWith("unetmm_loss_um")) {
                String link = words[2].substring("unetmm_loss_".length());
                if (run("ip", "link", "show", link).exit != 0) {
                    run("nft", "delete", "table", words[1], words[2]);
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        if (!open) {
            return;
        }
        open = false;
        run("ip", "netns", "del", namespace);
        if (run("ip", "link", "show", localLink).exit == 0) {
            run("ip", "link", "del", localLink);
        }
    }

    private record Result(int exit, String output) {
    }

    private static void check(String... command) throws IOException {
        Result result = run(command);
        if (result.exit != 0) {
            throw new IOException(String.join(" ", command) + " failed (" + result.exit + "): " + result.output);
        }
    }

    private static Result run(String... command) throws IOException {
        Process process = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true).start();
        try {
            if (!process.waitFor(COMMAND_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + " did not finish in " + COMMAND_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted running " + String.join(" ", command), e);
        }
        return new Result(process.exitValue(), new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }
}
