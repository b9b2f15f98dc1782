package org.unetmm;

/** Who drives the NIC engine. */
public enum ProgressMode {
    /** A NIC thread of its own: spins, then yields, then parks when idle (like a NIC's firmware loop). */
    NIC_THREAD,
    /** The application calls {@link Nic#progress()} (as UCX's worker progress): lowest latency, no extra thread. */
    CALLER
}
