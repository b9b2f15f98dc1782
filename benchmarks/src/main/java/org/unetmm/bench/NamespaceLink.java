package org.unetmm.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Two network namespaces joined by a veth pair at MTU 1500, on a free /24 of 198.18.0.0/15, with
 * real loss from an nftables rule on a namespace's input hook ({@link #loss}); closing deletes both
 * namespaces, which takes the veth and the tables in them along. {@link Child} is a JVM run in one
 * of them, spoken to by lines. Used by {@code unetmm reliable-stream}'s coordinator (root only).
 */
final class NamespaceLink implements AutoCloseable {
    private static final String TABLE = "unetmm_loss";

    final String sendNs;
    final String sinkNs;
    final String sendAddress;
    final String sinkAddress;
    private boolean open;

    NamespaceLink() throws IOException {
        long pid = ProcessHandle.current().pid();
        Random random = new Random();
        String tag = Long.toHexString(pid & 0xFFFFF) + Integer.toHexString(random.nextInt(1 << 12) | (1 << 12)).substring(1);
        sendNs = "unetmm-rs-" + tag + "-a";
        sinkNs = "unetmm-rs-" + tag + "-b";
        String subnet = freeSubnet(random);
        sendAddress = subnet + ".1";
        sinkAddress = subnet + ".2";
        String a = "urs" + tag + "a";
        String b = "urs" + tag + "b";
        open = true;
        try {
            shell("ip", "netns", "add", sendNs);
            shell("ip", "netns", "add", sinkNs);
            shell("ip", "link", "add", a, "mtu", "1500", "netns", sendNs, "type", "veth", "peer", "name", b, "mtu", "1500",
                    "netns", sinkNs);
            shell("ip", "-n", sendNs, "addr", "add", sendAddress + "/24", "dev", a);
            shell("ip", "-n", sinkNs, "addr", "add", sinkAddress + "/24", "dev", b);
            for (String ns : List.of(sendNs, sinkNs)) {
                shell("ip", "-n", ns, "link", "set", "lo", "up");
            }
            shell("ip", "-n", sendNs, "link", "set", a, "up");
            shell("ip", "-n", sinkNs, "link", "set", b, "up");
        } catch (IOException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private static String freeSubnet(Random random) throws IOException {
        String used = shell("ip", "-4", "-o", "addr", "show");
        for (int attempt = 0; attempt < 64; attempt++) {
            int third = random.nextInt(512);
            String subnet = third < 256 ? "198.18." + third : "198.19." + (third - 256);
            if (!used.contains(" " + subnet + ".")) {
                return subnet;
            }
        }
        throw new IllegalStateException("no free /24 in 198.18.0.0/15");
    }

    /** Drops {@code percent} % of UDP datagrams to {@code port} arriving in {@code ns} (0 = the rule removed). */
    void loss(String ns, int port, int percent) throws IOException {
        if (percent == 0) {
            quiet("ip", "netns", "exec", ns, "nft", "delete", "table", "inet", TABLE);
            return;
        }
        shell("ip", "netns", "exec", ns, "nft", "add", "table", "inet", TABLE);
        shell("ip", "netns", "exec", ns, "nft", "add", "chain", "inet", TABLE, "input",
                "{ type filter hook input priority 0; }");
        shell("ip", "netns", "exec", ns, "nft", "add", "rule", "inet", TABLE, "input", "udp", "dport",
                String.valueOf(port), "numgen", "random", "mod", "100", "<", String.valueOf(percent), "drop");
    }

    List<String> exec(String ns) {
        return List.of("ip", "netns", "exec", ns);
    }

    @Override
    public void close() {
        if (!open) {
            return;
        }
        open = false;
        quiet("ip", "netns", "del", sendNs); // takes its veth end, the pair, and its nftables tables along
        quiet("ip", "netns", "del", sinkNs);
    }

    /** One child JVM in a namespace, spoken to by lines. */
    static final class Child implements AutoCloseable {
        final Process process;
        final BufferedReader out;
        final PrintWriter in;
        final String name;

        Child(String name, List<String> command) throws IOException {
            this.name = name;
            this.process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
            this.in = new PrintWriter(process.getOutputStream(), true, StandardCharsets.US_ASCII);
        }

        /** The next line starting with {@code word}, its remainder; fails on FAILED or the child's end. */
        String expect(String word) throws IOException {
            String line;
            while ((line = out.readLine()) != null) {
                if (line.startsWith(word)) {
                    return line.substring(word.length()).trim();
                }
                if (line.startsWith("FAILED")) {
                    throw new IllegalStateException(name + ": " + line);
                }
                System.err.println(name + ": " + line);
            }
            throw new IllegalStateException(name + " exited (" + exitCode() + ") before saying " + word);
        }

        private String exitCode() {
            try {
                return process.waitFor(2, TimeUnit.SECONDS) ? String.valueOf(process.exitValue()) : "still running";
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted";
            }
        }

        void say(String line) {
            in.println(line);
        }

        @Override
        public void close() {
            process.destroy();
            try {
                if (!process.waitFor(5, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    private static String shell(String... command) throws IOException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output.trim());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
        return output;
    }

    private static void quiet(String... command) {
        try {
            shell(command);
        } catch (IOException e) {
            // cleaning up: what is already gone stays gone
        }
    }
}
