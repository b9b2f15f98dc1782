package org.unetmm.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.unetmm.ChannelAddress;
import org.unetmm.nic.udp.WireFrame;

/**
 * The Wireshark dissector {@code tools/wireshark/unetmm.lua} on a capture of a real {@code unetmm
 * pingpong} against an echo in another JVM over udp loopback (dumpcap on {@code lo}, filtered to the
 * echo's port), read back with {@code tshark -T fields}: every field checked against what the
 * pingpong says it sent. And on hand-built frames in a pcap file of its own, for what a pingpong never
 * sends: coalesced frames, a bad version, a frame claiming past its datagram. Skipped only where tshark
 * is not installed ({@code .ci/run} installs it).
 */
@Timeout(180)
class WiresharkDissectorTest {
    private static final Path SCRIPT = Path.of("..", "tools", "wireshark", "unetmm.lua").toAbsolutePath().normalize();
    private static final Pattern SESSION = Pattern.compile("pingpong: (\\S+) -> (\\S+), (\\d+) B, \\S+ path, MTU (\\d+)");
    private static final String[] FIELDS = {"udp.srcport", "udp.dstport", "udp.length", "unetmm.frame", "unetmm.magic",
        "unetmm.version", "unetmm.type", "unetmm.flags", "unetmm.src_tag", "unetmm.dst_tag", "unetmm.msg_id",
        "unetmm.frag_offset", "unetmm.msg_len", "unetmm.frag_len", "unetmm.src_conn", "unetmm.dst_conn",
        "unetmm.reserved", "unetmm.hdr_crc.good", "unetmm.payload", "_ws.expert.message"};

    @TempDir
    Path dir;

    @BeforeAll
    static void tsharkInstalled() {
        Assumptions.assumeTrue(onPath("tshark") && onPath("dumpcap"),
                "tshark (Debian package tshark, with dumpcap) is not installed: .ci/run installs it");
    }

    private static boolean onPath(String program) {
        for (String d : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!d.isEmpty() && Files.isExecutable(Path.of(d, program))) {
                return true;
            }
        }
        return false;
    }

    /** One decoded unetmm frame: the fields of {@link #FIELDS}, its datagram's ports and length. */
    private record Frame(Map<String, String> f) {
        String get(String name) {
            return f.get(name);
        }

        long number(String name) {
            String v = f.get(name);
            return v.startsWith("0x") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
        }

        String payloadText() {
            String hex = f.get("unetmm.payload").replace(":", "");
            return hex.contains("|") ? "" : new String(HexFormat.of().parseHex(hex), StandardCharsets.US_ASCII); // coalesced: not read
        }
    }

    /** Runs tshark with the dissector over {@code capture}; one {@link Frame} per unetmm frame (a coalesced datagram gives several). */
    private List<Frame> decode(Path capture, String... options) throws Exception {
        List<String> command = new ArrayList<>(List.of("tshark", "-n", "-X", "lua_script:" + SCRIPT, "-r", capture.toString()));
        command.addAll(List.of(options));
        command.addAll(List.of("-Y", "unetmm.version", "-T", "fields", "-E", "separator=/t", "-E", "occurrence=a", "-E", "aggregator=|"));
        for (String field : FIELDS) {
            command.addAll(List.of("-e", field));
        }
        Path out = dir.resolve("tshark.out");
        Path err = dir.resolve("tshark.err");
        Process tshark = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(tshark.waitFor(120, TimeUnit.SECONDS)).as("tshark finished").isTrue();
        String errors = Files.readString(err).replaceAll("(?m)^Running as user .*\\n?", "");
        assertThat(tshark.exitValue()).as("tshark: " + errors).isZero();
        assertThat(errors).as("tshark's stderr: a Lua error in the dissector shows here").isBlank();
        List<Frame> frames = new ArrayList<>();
        for (String line : Files.readAllLines(out)) {
            String[] columns = line.split("\t", -1);
            assertThat(columns).as(line).hasSize(FIELDS.length);
            int count = columns[3].split("\\|", -1).length;
            for (int i = 0; i < count; i++) {
                Map<String, String> f = new HashMap<>();
                for (int c = 0; c < FIELDS.length; c++) {
                    String[] values = columns[c].split("\\|", -1);
                    boolean perFrame = FIELDS[c].startsWith("unetmm.") && !FIELDS[c].equals("unetmm.payload");
                    f.put(FIELDS[c], perFrame ? values[i] : c < 3 ? values[0] : columns[c]);
                }
                frames.add(new Frame(f));
            }
        }
        return frames;
    }

    @Test
    void decodesEveryFieldOfARealPingpongCaptureAsItWasSent() throws Exception {
        int port = UnetmmProcess.freePort();
        String echoAddress = "udp://127.0.0.1:" + port;
        Path capture = dir.resolve("pingpong.pcapng");
        int[] sizes = {64, 1000, 100_000};
        int rounds = 20;
        List<Matcher> sessions = new ArrayList<>();
        // "-w -": dumpcap flushes every packet to a pipe-like output, so the sentinel below is on disk once captured
        Path dumpcapErr = dir.resolve("dumpcap.err");
        Process dumpcap = new ProcessBuilder("dumpcap", "-q", "-B", "64", "-i", "lo", "-f", "udp port " + port, "-w", "-")
                .redirectOutput(capture.toFile()).redirectError(dumpcapErr.toFile()).start();
        try {
            awaitBytes(dumpcapErr, "Capturing on".getBytes(StandardCharsets.US_ASCII));
            try (UnetmmProcess echo = UnetmmProcess.start("echo", "--listen", echoAddress, "--duration", "100")) {
                assertThat(echo.nextLine()).startsWith("echo: listening on " + echoAddress + "/1");
                for (int size : sizes) {
                    CommandRun run = CommandRun.of("pingpong", "--to", echoAddress, "--size", Integer.toString(size), "--count",
                            Integer.toString(rounds), "--warmup", "0", "--timeout-ms", "5000");
                    assertThat(run.exitCode()).as(run.err() + run.out()).isZero();
                    Matcher m = SESSION.matcher(run.out());
                    assertThat(m.find()).as(run.out()).isTrue();
                    sessions.add(m);
                }
            }
            // a last datagram (not unetmm: no magic) after everything the pingpongs sent; once it is in the file, all is
            byte[] sentinel = ("end of capture " + System.nanoTime()).getBytes(StandardCharsets.US_ASCII);
            try (java.net.DatagramSocket socket = new java.net.DatagramSocket()) {
                socket.send(new java.net.DatagramPacket(sentinel, sentinel.length, java.net.InetAddress.getLoopbackAddress(), port));
            }
            awaitBytes(capture, sentinel);
        } finally {
            dumpcap.toHandle().destroy(); // SIGTERM: it closes the file
            assertThat(dumpcap.waitFor(30, TimeUnit.SECONDS)).as("dumpcap ended").isTrue();
        }
        String summary = Files.readString(dumpcapErr);
        assertThat(summary).as("dumpcap dropped no packet").doesNotContainPattern("dropped on interface '[^']*': \\d+/[1-9]");

        List<Frame> frames = decode(capture, "-d", "udp.port==" + port + ",unetmm");
        assertThat(frames).isNotEmpty();
        for (Frame f : frames) {
            assertThat(f.get("unetmm.magic")).isEqualTo("0x4d4d4e55");
            assertThat(f.number("unetmm.version")).isEqualTo(WireFrame.VERSION);
            assertThat(f.get("unetmm.hdr_crc.good")).as("header checksum").isIn("True", "1");
            assertThat(f.number("unetmm.reserved")).isZero();
            assertThat(f.number("unetmm.frag_offset") + f.number("unetmm.frag_len")).isLessThanOrEqualTo(f.number("unetmm.msg_len"));
            assertThat(f.get("_ws.expert.message")).as("expert info on a valid frame").matches("(\\d+ frames in one datagram)?");
        }
        for (Frame f : frames) { // a lone frame is its whole datagram: UDP length = 8 + header + fragment
            if (f.get("unetmm.frame").equals("0") && !f.get("_ws.expert.message").contains("frames in one datagram")) {
                assertThat(f.number("udp.length")).isEqualTo(8 + WireFrame.HEADER_LENGTH + f.number("unetmm.frag_len"));
            }
        }

        for (int s = 0; s < sizes.length; s++) {
            int size = sizes[s];
            ChannelAddress client = ChannelAddress.parse(sessions.get(s).group(1));
            ChannelAddress session = ChannelAddress.parse(sessions.get(s).group(2));
            int mtu = Integer.parseInt(sessions.get(s).group(4));
            int clientPort = Integer.parseInt(client.transportAddress().substring(client.transportAddress().lastIndexOf(':') + 1));
            assertThat(Integer.parseInt(sessions.get(s).group(3))).isEqualTo(size);

            // the hello: from the client's hello channel to the echo's well-known tag 1, no connection id yet
            List<Frame> hellos = frames.stream().filter(f -> f.number("udp.srcport") == clientPort && f.number("unetmm.dst_tag") == 1
                    && f.payloadText().startsWith(EchoProtocol.HELLO)).toList();
            assertThat(hellos).as("the hello of the %d B session", size).isNotEmpty();
            for (Frame h : hellos) {
                assertThat(h.payloadText()).isEqualTo(EchoProtocol.HELLO + client + " " + size);
                assertThat(h.number("unetmm.dst_conn")).isZero();
                assertThat(h.number("unetmm.type")).isEqualTo(1);
            }

            // the pings: the data channel's frames to the session channel, message ids 0 .. rounds-1, each whole
            checkMessages(frames, client, session, size, mtu, 0, rounds);
            // the echoes: the session's WELCOME is its message 0, the echoes 1 .. rounds
            List<Frame> welcome = frames.stream().filter(f -> from(f, session) && f.number("unetmm.msg_id") == 0).toList();
            assertThat(welcome).hasSize(1);
            assertThat(welcome.get(0).payloadText()).startsWith(EchoProtocol.WELCOME + session + " ");
            assertThat(welcome.get(0).number("unetmm.dst_tag")).isEqualTo(client.tag());
            checkMessages(frames, session, client, size, mtu, 1, rounds);
        }

        // the same capture found by the heuristic alone (no port named) and by the port preference
        assertThat(decode(capture, "-o", "udp.try_heuristic_first:TRUE")).hasSameSizeAs(frames);
        assertThat(decode(capture, "-o", "unetmm.udp_port:" + port)).hasSameSizeAs(frames);
    }

    private static boolean from(Frame f, ChannelAddress channel) {
        return f.number("unetmm.src_tag") == channel.tag() && f.number("unetmm.src_conn") == channel.connection();
    }

    /** Messages {@code first} .. {@code first+count-1} of {@code from} to {@code to}: each {@code size} B, its fragments tiling it. */
    private static void checkMessages(List<Frame> frames, ChannelAddress from, ChannelAddress to, int size, int mtu, long first, int count) {
        Map<Long, TreeSet<Long>> fragments = new HashMap<>();
        for (Frame f : frames) {
            if (!from(f, from) || f.number("unetmm.msg_len") != size || f.number("unetmm.msg_id") < first) {
                continue;
            }
            assertThat(f.number("unetmm.dst_tag")).isEqualTo(to.tag());
            assertThat(f.number("unetmm.dst_conn")).as("destination connection id").isEqualTo(to.connection());
            assertThat(f.number("unetmm.type")).isEqualTo(1);
            assertThat(f.number("unetmm.frag_len")).isLessThanOrEqualTo(mtu);
            long offset = f.number("unetmm.frag_offset");
            assertThat(offset % mtu).as("fragments start at multiples of the MTU").isZero();
            assertThat(f.number("unetmm.frag_len")).isEqualTo(Math.min(mtu, size - offset));
            assertThat(fragments.computeIfAbsent(f.number("unetmm.msg_id"), id -> new TreeSet<>()).add(offset))
                    .as("fragment %d of message %d seen once", offset, f.number("unetmm.msg_id")).isTrue();
        }
        assertThat(new TreeSet<>(fragments.keySet())).as("message ids of %s", from)
                .containsExactlyElementsOf(java.util.stream.LongStream.range(first, first + count).boxed().toList());
        int perMessage = (size + mtu - 1) / mtu;
        fragments.forEach((id, offsets) -> assertThat(offsets).as("fragments of message %d", id).hasSize(perMessage));
    }

    /** Waits (bounded) until {@code file} holds {@code bytes}. */
    private static void awaitBytes(Path file, byte[] bytes) throws Exception {
        String wanted = new String(bytes, StandardCharsets.ISO_8859_1);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        try (java.nio.file.WatchService watch = file.getFileSystem().newWatchService()) {
            // registered before the first look, so no write between the look and the wait is missed
            file.toAbsolutePath().getParent().register(watch, java.nio.file.StandardWatchEventKinds.ENTRY_CREATE,
                    java.nio.file.StandardWatchEventKinds.ENTRY_MODIFY);
            while (!(Files.exists(file) && new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).contains(wanted))) {
                long left = deadline - System.nanoTime();
                assertThat(left).as("'%s' in %s within 30 s", wanted, file).isPositive();
                java.nio.file.WatchKey key = watch.poll(left, TimeUnit.NANOSECONDS); // the writer's next write
                if (key != null) {
                    key.pollEvents();
                    key.reset();
                }
            }
        }
    }

    // ---- hand-built frames, for what a pingpong does not send ----------------------------------------------

    /** A wire header as WireFrame lays it out, header checksum included. */
    private static ByteBuffer frame(int version, int flags, int source, int destination, long id, int payload, int claimedLength) {
        ByteBuffer b = ByteBuffer.allocate(WireFrame.HEADER_LENGTH + payload).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(WireFrame.MAGIC_OFFSET, WireFrame.MAGIC).put(WireFrame.VERSION_OFFSET, (byte) version)
                .put(WireFrame.TYPE_OFFSET, (byte) 1).putShort(WireFrame.FLAGS_OFFSET, (short) flags)
                .putInt(WireFrame.SOURCE_TAG_OFFSET, source).putInt(WireFrame.DESTINATION_TAG_OFFSET, destination)
                .putLong(WireFrame.MESSAGE_ID_OFFSET, id).putInt(WireFrame.FRAGMENT_OFFSET_OFFSET, 0)
                .putInt(WireFrame.MESSAGE_LENGTH_OFFSET, claimedLength).putInt(WireFrame.FRAGMENT_LENGTH_OFFSET, claimedLength)
                .putLong(WireFrame.SOURCE_CONNECTION_OFFSET, 0x1234_5678_9abc_def0L)
                .putLong(WireFrame.DESTINATION_CONNECTION_OFFSET, 0x0fed_cba9_8765_4321L);
        for (int i = 0; i < payload; i++) {
            b.put(WireFrame.HEADER_LENGTH + i, (byte) i);
        }
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, WireFrame.CHECKSUM_OFFSET);
        b.putInt(WireFrame.CHECKSUM_OFFSET, (int) crc.getValue());
        return b;
    }

    private static byte[] concat(ByteBuffer... parts) {
        ByteBuffer all = ByteBuffer.allocate(java.util.Arrays.stream(parts).mapToInt(ByteBuffer::capacity).sum());
        for (ByteBuffer p : parts) {
            all.put(p.array());
        }
        return all.array();
    }

    /** A pcap file (LINKTYPE_RAW: IPv4) of UDP datagrams 127.0.0.1:40000 -> 127.0.0.1:{@code port}, one per payload. */
    private Path pcap(int port, byte[]... datagrams) throws IOException {
        ByteBuffer file = ByteBuffer.allocate(24 + java.util.Arrays.stream(datagrams).mapToInt(d -> 16 + 28 + d.length).sum())
                .order(ByteOrder.LITTLE_ENDIAN);
        file.putInt(0xa1b2c3d4).putShort((short) 2).putShort((short) 4).putInt(0).putInt(0).putInt(65535).putInt(101);
        int second = 1;
        for (byte[] d : datagrams) {
            int length = 28 + d.length;
            file.putInt(second++).putInt(0).putInt(length).putInt(length);
            ByteBuffer ip = ByteBuffer.allocate(length); // big-endian, as on the wire
            ip.put((byte) 0x45).put((byte) 0).putShort((short) length).putInt(0).put((byte) 64).put((byte) 17).putShort((short) 0)
                    .put(new byte[] {127, 0, 0, 1}).put(new byte[] {127, 0, 0, 1});
            ip.putShort((short) 40000).putShort((short) port).putShort((short) (8 + d.length)).putShort((short) 0).put(d);
            file.put(ip.array());
        }
        Path path = dir.resolve("built.pcap");
        Files.write(path, file.array());
        return path;
    }

    @Test
    void coalescedFramesEachGetTheirOwnSubtreeAndBadFramesGetExpertInfo() throws Exception {
        byte[] coalesced = concat(frame(3, WireFrame.FLAG_MORE, 5, 7, 40, 10, 10), frame(3, 0, 5, 7, 41, 3, 3));
        byte[] badVersion = frame(2, 0, 5, 7, 42, 4, 4).array();
        byte[] claimsPast = frame(3, 0, 5, 7, 43, 4, 400).array(); // says 400 B of payload follow, 4 do
        List<Frame> frames = decode(pcap(40001, coalesced, badVersion, claimsPast), "-d", "udp.port==40001,unetmm");

        assertThat(frames).hasSize(4);
        assertThat(frames.get(0).get("unetmm.frame")).isEqualTo("0");
        assertThat(frames.get(1).get("unetmm.frame")).isEqualTo("1");
        assertThat(frames.get(0).number("unetmm.msg_id")).isEqualTo(40);
        assertThat(frames.get(1).number("unetmm.msg_id")).isEqualTo(41);
        assertThat(frames.get(0).number("unetmm.flags")).isEqualTo(WireFrame.FLAG_MORE);
        assertThat(frames.get(1).number("unetmm.flags")).isZero();
        assertThat(frames.get(0).number("unetmm.frag_len")).isEqualTo(10);
        assertThat(frames.get(1).number("unetmm.frag_len")).isEqualTo(3);
        assertThat(frames.get(0).number("unetmm.src_conn")).isEqualTo(0x1234_5678_9abc_def0L);
        assertThat(frames.get(0).number("unetmm.dst_conn")).isEqualTo(0x0fed_cba9_8765_4321L);
        assertThat(frames.get(0).get("_ws.expert.message")).isEqualTo("2 frames in one datagram");

        assertThat(frames.get(2).number("unetmm.version")).isEqualTo(2);
        assertThat(frames.get(2).get("_ws.expert.message")).contains("Wire version 2");
        assertThat(frames.get(3).get("_ws.expert.message")).contains("Last frame of the datagram: 400 B of payload, 4 B left");
        assertThat(frames.get(2).get("unetmm.hdr_crc.good")).isIn("True", "1");
    }
}
