CREATE TABLE "epochs" (
	"trial_id" text NOT NULL,
	"epoch" integer NOT NULL,
	"metrics" jsonb NOT NULL,
	"notes" jsonb,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "epochs_pk" PRIMARY KEY("trial_id","epoch")
);
--> statement-breakpoint
CREATE TABLE "layer_stats" (
	"trial_id" text NOT NULL,
	"epoch" integer NOT NULL,
	"layer" text NOT NULL,
	"position" integer NOT NULL,
	"trainable" boolean NOT NULL,
	"kernel_movement" double precision,
	"bias_movement" double precision,
	"update_ratio" double precision,
	"mean" double precision,
	"std" double precision,
	"fraction_negative" double precision,
	"quantiles" double precision[],
	"sparsity" double precision,
	"dead_fraction" double precision,
	CONSTRAINT "layer_stats_pk" PRIMARY KEY("trial_id","epoch","layer")
);
--> statement-breakpoint
CREATE TABLE "studies" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"spec" jsonb NOT NULL,
	"spec_text" text NOT NULL,
	"state" text NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "studies_state_check" CHECK ("studies"."state" in ('running', 'completed', 'stopped', 'failed'))
);
--> statement-breakpoint
CREATE TABLE "trials" (
	"id" text PRIMARY KEY NOT NULL,
	"study_id" text NOT NULL,
	"number" integer NOT NULL,
	"params" jsonb NOT NULL,
	"tags" jsonb,
	"state" text NOT NULL,
	"value" double precision,
	"reason" text,
	"worker" text,
	"notes" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	CONSTRAINT "trials_study_number_unique" UNIQUE("study_id","number"),
	CONSTRAINT "trials_state_check" CHECK ("trials"."state" in ('queued', 'running', 'completed', 'stopped', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "epochs" ADD CONSTRAINT "epochs_trial_id_trials_id_fk" FOREIGN KEY ("trial_id") REFERENCES "public"."trials"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "layer_stats" ADD CONSTRAINT "layer_stats_epoch_fk" FOREIGN KEY ("trial_id","epoch") REFERENCES "public"."epochs"("trial_id","epoch") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "trials" ADD CONSTRAINT "trials_study_id_studies_id_fk" FOREIGN KEY ("study_id") REFERENCES "public"."studies"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "studies_state_idx" ON "studies" USING btree ("state");--> statement-breakpoint
CREATE INDEX "trials_study_state_idx" ON "trials" USING btree ("study_id","state");