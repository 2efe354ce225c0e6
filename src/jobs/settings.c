/* settings.c - what the configuration says of processing: a worker's
 * limits and who holds the jobs this process claims (jobs.h). */
#include <unistd.h>

#include "kindling/config.h"
#include "kindling/jobs.h"

void jobs_limits_from_config(const struct kd_config *cfg, struct jobs_limits *l)
{
	l->timeout_s = cfg->job_timeout;
	l->mem_mb = cfg->job_memory_mb;
	/* Workers use up to two threads: twice the wall clock in CPU time. */
	l->cpu_s = cfg->job_timeout * 2 + 10;
	/* issue 15: transcription */
	l->transcribe_command = cfg->transcribe_command;
	l->transcribe_timeout_s = cfg->transcribe_command ? cfg->transcribe_timeout : 0;
}

void jobs_owner_of(const struct kd_config *cfg, struct jobs_owner *o)
{
	o->pid = getpid();
	o->node = cfg->node_name ? cfg->node_name : "node";
	o->lease_s = cfg->job_lease_s ? cfg->job_lease_s : 60;
}
