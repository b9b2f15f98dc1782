package org.unetmm.bench;

import io.aeron.Aeron;
import io.aeron.ExclusivePublication;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.FrameDescriptor;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.agrona.concurrent.UnsafeBuffer;
import org.unetmm.Channel;
import org.unetmm.ChannelAddress;
import org.unetmm.Completion;
import org.unetmm.CompletionHandler;
import org.unetmm.CompletionStatus;
import org.unetmm.Endpoint;
import org.unetmm.EndpointConfig;
import org.unetmm.Nic;
import org.unetmm.NicConfig;
import org.unetmm.ProgressMode;
import org.unetmm.SendPath;
import org.unetmm.pinning.NativeBuffer;
import org.unetmm.pinning.NativeMemory;
import org.unetmm.pinning.PinBudget;
import org.unetmm.tlb.ReplacementPolicy;

/**
 * The receiving JVM of {@code unetmm compare --transport shm:} ({@link ChildJvm} starts it): the
 * far end of one peer at a time, echoing pings or sinking a stream and acknowledging its count
 * over the peer's own wire, so nothing measured crosses the control pipe.
 *
 * <p>Requests, one line each on standard input; every one is answered by one line on standard
 * output ({@code error <why>} when it could not be done):
 * <pre>
 *  unetmm &lt;uri&gt; &lt;PINNED|FIXED_SEGMENT&gt; &lt;size&gt; &lt;buffers&gt; &lt;client&gt; &lt;acks&gt;
 *                                  → ready &lt;server&gt; &lt;acker&gt;   a NIC on uri, its two channels connected
 *  aeron &lt;dir&gt; &lt;size&gt; &lt;term&gt;      → ready                     an Aeron client of the parent's media driver
 *  budget                          → budget &lt;bytes&gt;            this process's pin budget (RLIMIT_MEMLOCK)
 *  echo                            → ok                        answer each message with itself
 *  sink &lt;every&gt;                    → ok                        count messages, send the count every &lt;every&gt;
 *  close                           → closed                    close the peer
 *  exit                            (none)                      close and end
 * </pre>
 * It ends on {@code exit}, on end of input (the parent is gone), or when its lifetime (the only
 * argument, seconds) runs out, closing its peer first so nothing of it stays under /dev/shm.
 */
public final class CrossProcessChild {
    /** Aeron streams: the parent's publication to this child, and back. */
    static final int AERON_TO_CHILD = 1101;
    static final int AERON_TO_PARENT = 1102;
    private static final String EXIT = "exit";
    /** The lifetime is checked once in this many steps (a power of two): a clock read costs more than a small message's step. */
    private static final int CLOCK_STEPS = 1024;

    /** The far end of one peer, run by the main thread between requests. */
    private interface Far extends AutoCloseable {
        void echo();

        void sink(int every);

        /** One turn of work; returns how much it did (0: nothing, an idle turn). */
        int step();

        @Override
        void close();
    }

    private CrossProcessChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(Long.parseLong(args[0]));
        BlockingQueue<String> requests = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    requests.add(line);
                }
            } catch (Exception ignored) {
                // the pipe broke: the parent is gone
            }
            requests.add(EXIT);
        }, "requests");
        reader.setDaemon(true);
        reader.start();
        Far far = null;
        IdleTurns idle = new IdleTurns();
        try {
            for (int step = 0; ; step++) {
                boolean lookAtClock = far == null || (step & (CLOCK_STEPS - 1)) == 0; // idle: every wait of 100 ms
                if (lookAtClock && System.nanoTime() - deadline >= 0) {
                    break;
                }
                String request = far == null ? requests.poll(100, TimeUnit.MILLISECONDS) : requests.poll();
                if (request != null) {
                    if (request.equals(EXIT)) {
                        break;
                    }
                    try {
                        far = handle(request, far);
                    } catch (RuntimeException e) {
                        reply("error " + UnetmmCommand.oneLine(e));
                    }
                }
                if (far != null) {
                    idle.after(far.step());
                }
            }
        } finally {
            if (far != null) {
                far.close();
            }
        }
        System.exit(0);
    }

    private static Far handle(String request, Far far) {
        String[] word = request.split(" ");
        switch (word[0]) {
            case "unetmm", "aeron" -> {
                if (far != null) {
                    far.close();
                }
                Far opened = word[0].equals("unetmm")
                        ? new UnetmmFar(word[1], SendPath.valueOf(word[2]), Integer.parseInt(word[3]), Integer.parseInt(word[4]),
                        word[5], word[6])
                        : new AeronFar(word[1], Integer.parseInt(word[2]), Integer.parseInt(word[3]));
                reply(opened instanceof UnetmmFar u ? "ready " + u.server.address() + " " + u.acker.address() : "ready");
                return opened;
            }
            case "budget" -> reply("budget " + PinBudget.fromProcess().bytes());
            case "echo" -> {
                far.echo();
                reply("ok");
            }
            case "sink" -> {
                far.sink(Integer.parseInt(word[1]));
                reply("ok");
            }
            case "close" -> {
                if (far != null) {
                    far.close();
                }
                reply("closed");
                return null;
            }
            default -> throw new IllegalArgumentException("unknown request '" + word[0] + "'");
        }
        return far;
    }

    private static void reply(String line) {
        System.out.println(line);
        System.out.flush();
    }

    /**
     * A unetmm NIC (CALLER progress) on the parent's wire: {@code server} receives into posted
     * buffers of exactly the message size and echoes from the buffer a ping arrived in, on the
     * path of the measurement; {@code acker} sends the stream's count (8 B, fixed segment). Its
     * TLB covers every posted buffer and the segment (a page each), so a stream through all of them
     * does not evict its own translations.
     */
    private static final class UnetmmFar implements Far {
        private static final long ACK = -3;
        private static final int TLB_SETS = 256;
        private static final int TLB_WAYS = 4;
        private final Nic nic;
        private final Endpoint serverEndpoint;
        private final Endpoint ackerEndpoint;
        final Channel server;
        final Channel acker;
        private final SendPath path;
        private final int size;
        /** The receive buffers, slices of one allocation as a receive pool's are ({@link BufferPool}). */
        private final BufferPool targets;
        private final boolean[] posted;
        private final NativeBuffer ackOut = NativeMemory.allocate(8);
        private boolean streaming;
        private int every = 1;
        private long received;
        private long ackDue = -1;
        private final CompletionHandler onServer = this::onServer;
        private final CompletionHandler ignore = c -> { };

        UnetmmFar(String uri, SendPath path, int size, int buffers, String client, String acks) {
            this.path = path;
            this.size = size;
            int segment = ShmStreamPlan.segmentBytes(path, size);
            long pages = ((long) buffers * Math.max(1, size) + segment) / NativeMemory.pageSize() + buffers + 2;
            int sets = Integer.highestOneBit((int) Math.max(TLB_SETS, Math.min(1 << 16, (pages + TLB_WAYS - 1) / TLB_WAYS)) * 2 - 1);
            nic = Nic.open(NicConfig.builder().transport(uri).tlb(sets, TLB_WAYS, ReplacementPolicy.LRU)
                    .progressMode(ProgressMode.CALLER).build());
            try {
                // every posted buffer comes back as a completion: room for all of them (a full queue drops what
                // arrives, and at close what does not fit is kept aside, allocated one by one)
                serverEndpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes(segment)
                        .freeQueue(Math.max(256, 2 * buffers)).completionQueue(Math.max(1024, buffers + 64)).build());
                ackerEndpoint = nic.openEndpoint(EndpointConfig.builder().segmentBytes((int) NativeMemory.pageSize()).build());
                server = serverEndpoint.connect(ChannelAddress.parse(client));
                acker = ackerEndpoint.connect(ChannelAddress.parse(acks));
                targets = new BufferPool(size, buffers);
                posted = new boolean[buffers];
                for (int i = 0; i < buffers; i++) {
                    repost(i);
                }
            } catch (RuntimeException e) {
                nic.close();
                throw e;
            }
        }

        private void repost(int i) {
            if (!serverEndpoint.postReceive(targets.get(i), 0, size, i).isPosted()) {
                throw new IllegalStateException("the free queue is full: " + posted.length + " buffers were posted");
            }
            posted[i] = true;
        }

        @Override
        public void echo() {
            streaming = false;
        }

        @Override
        public void sink(int ackEvery) {
            every = ackEvery;
            received = 0;
            streaming = true;
        }

        @Override
        public int step() {
            int work = nic.progress();
            work += serverEndpoint.poll(onServer, 64);
            work += ackerEndpoint.poll(ignore, 64);
            if (ackDue >= 0) {
                ack(ackDue);
            }
            return work;
        }

        private void ack(long count) {
            ackOut.buffer().putLong(0, count);
            ackDue = ackerEndpoint.send(acker, ackOut.buffer(), 0, 8, SendPath.FIXED_SEGMENT, ACK).isAccepted() ? -1 : count;
        }

        private void onServer(Completion c) {
            int i = (int) c.cookie();
            if (c.status() == CompletionStatus.CLOSED) {
                return;
            }
            if (c.kind() == Completion.Kind.SEND) {
                if (!posted[i]) {
                    repost(i); // a pinned echo has left its buffer
                }
                return;
            }
            posted[i] = false;
            if (!c.isSuccess()) {
                repost(i);
            } else if (streaming) {
                repost(i);
                if (++received % every == 0) {
                    ack(received); // a refused ack is sent again next turn, with the count then
                }
            } else if (!serverEndpoint.send(server, c.buffer(), c.offset(), c.length(), path, i).isAccepted()
                    || path == SendPath.FIXED_SEGMENT) {
                repost(i); // copied into the segment already, or refused: the parent counts the ping lost
            }
        }

        @Override
        public void close() {
            nic.close(); // completes what is still posted: the buffers are free after
            targets.close();
            ackOut.close();
        }
    }

    /**
     * An Aeron client of the parent's embedded media driver: a subscription to the parent's IPC
     * publication, each fragment copied into one receive buffer (as the parent's AERON_IPC does in
     * one JVM), and an exclusive IPC publication back for echoes and counts.
     */
    private static final class AeronFar implements Far {
        private final Aeron aeron;
        private final Subscription in;
        private final ExclusivePublication out;
        private final UnsafeBuffer target;
        private final UnsafeBuffer count = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(8));
        private final int size;
        private boolean streaming;
        private int every = 1;
        private long received;
        private int filled;
        private boolean echoDue;
        private long ackDue = -1;
        private final FragmentHandler onFragment = this::onFragment;

        AeronFar(String dir, int size, int term) {
            this.size = size;
            target = new UnsafeBuffer(java.nio.ByteBuffer.allocateDirect(Math.max(1, size)));
            aeron = Aeron.connect(new Aeron.Context().aeronDirectoryName(dir));
            try {
                in = aeron.addSubscription("aeron:ipc", AERON_TO_CHILD);
                out = aeron.addExclusivePublication("aeron:ipc?term-length=" + term + "|mtu=65504", AERON_TO_PARENT);
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!out.isConnected() || !in.isConnected()) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException("Aeron IPC did not connect to the parent in 10 s");
                    }
                    Thread.onSpinWait();
                }
            } catch (RuntimeException e) {
                aeron.close();
                throw e;
            }
        }

        private void onFragment(org.agrona.DirectBuffer buffer, int offset, int length, io.aeron.logbuffer.Header header) {
            if ((header.flags() & FrameDescriptor.BEGIN_FRAG_FLAG) != 0) {
                filled = 0;
            }
            if (filled + length <= target.capacity()) {
                buffer.getBytes(offset, target, filled, length);
            }
            filled += length;
            if ((header.flags() & FrameDescriptor.END_FRAG_FLAG) != 0) {
                onMessage();
            }
        }

        private void onMessage() {
            if (!streaming) {
                echoDue = true;
            } else if (++received % every == 0) {
                ackDue = received;
            }
        }

        @Override
        public void echo() {
            streaming = false;
        }

        @Override
        public void sink(int ackEvery) {
            every = ackEvery;
            received = 0;
            streaming = true;
        }

        @Override
        public int step() {
            int work = 0;
            if (echoDue) {
                echoDue = !offered(out.offer(target, 0, size));
                work += echoDue ? 0 : 1;
            } else if (ackDue >= 0) {
                count.putLong(0, ackDue);
                ackDue = offered(out.offer(count, 0, 8)) ? -1 : ackDue;
                work += ackDue < 0 ? 1 : 0;
            }
            if (!echoDue) {
                work += in.poll(onFragment, 64); // one echo at a time: the next waits until this one is out
            }
            return work;
        }

        private static boolean offered(long result) {
            if (result == Publication.CLOSED || result == Publication.MAX_POSITION_EXCEEDED) {
                throw new IllegalStateException("Aeron offer failed: " + Publication.errorString(result));
            }
            return result >= 0;
        }

        @Override
        public void close() {
            aeron.close(); // closes its subscription and publication
        }
    }
}
