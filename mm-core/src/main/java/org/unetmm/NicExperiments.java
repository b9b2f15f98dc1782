package org.unetmm;

import org.unetmm.internal.Engine;
import org.unetmm.pinning.PinBudget;
import org.unetmm.tlb.AccessRecorder;

/**
 * What an experiment may do to a NIC beyond sending and receiving ({@link Nic#experiments()}):
 * record the TLB's page stream, start from a cold pin cache, force a TLB shootdown, ask whether a
 * page is translated. Counters are in {@link Nic#stats()}. These are the named doors into the
 * NIC's TLB and pin cache; the live objects themselves are not handed out, so nothing an
 * experiment does races the engine: every call here takes the engine lock.
 */
public final class NicExperiments {
    private final Engine engine;

    NicExperiments(Engine engine) {
        this.engine = engine;
    }

    /**
     * Records every TLB lookup (page, context) from the next one on, hit or miss, into
     * {@code recorder}; {@code null} stops. The recorder runs on the progress thread, on the hit
     * path: it must not block and should not allocate. Read what it recorded after a completion
     * says the work is done.
     *
     * @param recorder told of every lookup, or {@code null} to stop
     */
    public void recordTlbAccesses(AccessRecorder recorder) {
        engine.lock();
        try {
            engine.tlb().record(recorder);
        } finally {
            engine.unlock();
        }
    }

    /** Unpins every idle pinned region now (pages in use stay): the next run starts from a cold pin cache. */
    public void evictIdlePins() {
        engine.lock();
        try {
            engine.pinCache().evictIdle();
        } finally {
            engine.unlock();
        }
    }

    /**
     * Drops every translation of {@code endpoint}'s TLB context, as the kernel's shootdown does
     * (releasing their pins): the next access to each page misses. Pages an in-flight operation
     * still uses stay pinned by that operation.
     *
     * @param endpoint an endpoint of this NIC
     */
    public void shootdown(Endpoint endpoint) {
        engine.lock();
        try {
            engine.tlb().invalidateContext(endpoint.context());
        } finally {
            engine.unlock();
        }
    }

    /**
     * {@return whether {@code endpoint}'s TLB context translates the page holding native {@code address} now}
     *
     * @param endpoint an endpoint of this NIC
     * @param address  any address in the page
     */
    public boolean translates(Endpoint endpoint, long address) {
        engine.lock();
        try {
            return engine.tlb().contains(endpoint.context(), address);
        } finally {
            engine.unlock();
        }
    }

    /** {@return bytes this NIC's pin cache keeps locked now (in use and idle)} */
    public long pinnedBytes() {
        return engine.pinCache().pinnedBytes();
    }

    /** {@return the pin budget this NIC's pins are held to} */
    public PinBudget pinBudget() {
        return engine.pinCache().budget();
    }
}
