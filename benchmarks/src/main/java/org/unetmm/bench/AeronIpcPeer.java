package org.unetmm.bench;

import io.aeron.Aeron;
import io.aeron.Publication;
import io.aeron.Subscription;
import io.aeron.driver.MediaDriver;
import io.aeron.driver.ThreadingMode;
import io.aeron.logbuffer.FragmentHandler;
import io.aeron.logbuffer.FrameDescriptor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.HdrHistogram.Histogram;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.BusySpinIdleStrategy;

/**
 * Aeron IPC as a peer in {@code unetmm compare}: an embedded media driver (shared threading with a
 * busy-spinning conductor, as Aeron is deployed, run only during its own phase of the sweep; its
 * directory under /dev/shm, deleted on close), one IPC publication and subscription. Each message
 * is offered from the send buffer (Aeron copies it into its log buffer) and each fragment is copied
 * from the log buffer straight into the receive buffer at its offset (no reassembly buffer): two
 * copies, like the fixed segment, with Aeron's lock-free log in place of the NIC.
 */
final class AeronIpcPeer implements AutoCloseable {
    private static final int STREAM = 1001;
    private final MediaDriver driver;
    private final Aeron aeron;
    private final Publication publication;
    private final Subscription subscription;
    private ByteBuffer target;
    private int received;
    private boolean complete;
    private final FragmentHandler intoTarget = (buffer, offset, length, header) -> {
        if ((header.flags() & FrameDescriptor.BEGIN_FRAG_FLAG) != 0) {
            received = 0;
        }
        buffer.getBytes(offset, target, received, length);
        received += length;
        if ((header.flags() & FrameDescriptor.END_FRAG_FLAG) != 0) {
            complete = true;
        }
    };

    AeronIpcPeer(int largestMessage) throws IOException {
        Path dir = Files.createTempDirectory(Path.of(Files.isDirectory(Path.of("/dev/shm")) ? "/dev/shm" : "/tmp"), "unetmm-aeron-");
        driver = MediaDriver.launchEmbedded(new MediaDriver.Context()
                .aeronDirectoryName(dir.toString())
                .threadingMode(ThreadingMode.SHARED)
                .sharedIdleStrategy(new BusySpinIdleStrategy())
                .dirDeleteOnStart(true)
                .dirDeleteOnShutdown(true));
        Aeron client = null;
        try {
            client = Aeron.connect(new Aeron.Context().aeronDirectoryName(driver.aeronDirectoryName()));
            int term = 1 << 20; // an IPC term holds at least 8 MTU-sized fragments
            while (term / 8 < largestMessage) {
                term <<= 1;
            }
            publication = client.addExclusivePublication("aeron:ipc?term-length=" + term + "|mtu=65504", STREAM);
            subscription = client.addSubscription("aeron:ipc", STREAM);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (!publication.isConnected()) {
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("Aeron IPC publication did not connect in 10 s");
                }
                Thread.onSpinWait();
            }
        } catch (RuntimeException e) {
            if (client != null) {
                client.close(); // closes its publications and subscriptions too
            }
            driver.close(); // deletes its directory
            throw e;
        }
        aeron = client;
    }

    /** Sends and receives messages one at a time for {@code millis}; records one-way latency when asked. */
    long runFor(long millis, int size, ByteBuffer[] sources, ByteBuffer destination, Histogram latency) {
        target = destination;
        UnsafeBuffer[] views = new UnsafeBuffer[sources.length];
        for (int i = 0; i < sources.length; i++) {
            views[i] = new UnsafeBuffer(sources[i], 0, Math.max(size, 1));
        }
        long end = System.nanoTime() + millis * 1_000_000L;
        long messages = 0;
        int next = 0;
        do {
            for (int batch = 0; batch < 16; batch++) {
                UnsafeBuffer view = views[next];
                next = next + 1 == views.length ? 0 : next + 1;
                long start = System.nanoTime();
                long result;
                while ((result = publication.offer(view, 0, size)) < 0) {
                    if (result == Publication.CLOSED || result == Publication.NOT_CONNECTED
                            || result == Publication.MAX_POSITION_EXCEEDED) {
                        throw new IllegalStateException("Aeron offer failed: " + Publication.errorString(result));
                    }
                    subscription.poll(intoTarget, 16);
                }
                complete = false;
                while (!complete) {
                    subscription.poll(intoTarget, 64);
                }
                if (latency != null) {
                    latency.recordValue(Math.max(0, System.nanoTime() - start));
                }
                messages++;
            }
        } while (System.nanoTime() - end < 0);
        return messages;
    }

    @Override
    public void close() {
        subscription.close();
        publication.close();
        aeron.close();
        driver.close();
    }
}
