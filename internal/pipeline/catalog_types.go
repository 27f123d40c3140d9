package pipeline

// catalog is every object type, sorted by name (TestCatalogSorted). The
// fields come from the spec's Appendix D, the enumerations and reference
// targets from §3.2 and §3.3. Where those disagree the choice is noted.
var catalog = []TypeSpec{
	{Name: "CSV", Kind: KindDataFormat, Fields: mergeFields(plainFields, fieldList(fStrs("column"), fStr("escapeChar")))},
	{Name: "CopyActivity", Kind: KindActivity, Fields: activityFields, OneOf: []OneOf{runsOnOrWorkerGroup}},
	{Name: "Custom", Kind: KindDataFormat, Fields: mergeFields(plainFields, fieldList(
		fStrs("column"), must(fStr("columnSeparator")), fStr("recordSeparator"),
	))},
	{Name: "DynamoDBDataExists", Kind: KindPrecondition, Fields: mergeFields(preconditionFields, fieldList(
		must(fStr("role")), must(fStr("tableName")),
	))},
	{Name: "DynamoDBDataFormat", Kind: KindDataFormat, Fields: mergeFields(plainFields, fieldList(fStrs("column")))},
	{Name: "DynamoDBDataNode", Kind: KindDataNode, Fields: mergeFields(dataNodeFields, fieldList(
		fRef("dataFormat", KindDataFormat), fDouble("readThroughputPercent"), fStr("region"),
		must(fStr("tableName")), fDouble("writeThroughputPercent"),
	))},
	{Name: "DynamoDBExportDataFormat", Kind: KindDataFormat, Fields: mergeFields(plainFields, fieldList(fStrs("column")))},
	{Name: "DynamoDBTableExists", Kind: KindPrecondition, Fields: mergeFields(preconditionFields, fieldList(
		must(fStr("role")), must(fStr("tableName")),
	))},
	// EbsConfiguration, EbsBlockDeviceConfig and VolumeSpecification only
	// appear in the EmrCluster EBS example (§3.3); their fields are as shown
	// there.
	{Name: "EbsBlockDeviceConfig", Kind: KindOther, Fields: mergeFields(plainFields, fieldList(
		fRefType("volumeSpecification", "VolumeSpecification"), fInt("volumesPerInstance"),
	))},
	{Name: "EbsConfiguration", Kind: KindOther, Fields: mergeFields(plainFields, fieldList(
		many(fRefType("ebsBlockDeviceConfig", "EbsBlockDeviceConfig")), fBool("ebsOptimized"),
	))},
	{Name: "Ec2Resource", Kind: KindResource, Fields: mergeFields(resourceFields, fieldList(
		fBool("associatePublicIpAddress"), fStr("imageId"), fInt("instanceCount"), fStr("instanceType"),
		fInt("minInstanceCount"), must(fStr("resourceRole")), must(fStr("role")), fStr("runAsUser"),
		fStrs("securityGroupIds"), fStrs("securityGroups"), fStr("spotBidPrice"),
	)), NotAllowed: []string{"runsOn", "workerGroup"}},
	{Name: "EmrActivity", Kind: KindActivity, Fields: mergeFields(activityFields, fieldList(
		fStrs("postStepCommand"), fStrs("preStepCommand"), fBool("resizeClusterBeforeRunning"),
		fInt("resizeClusterMaxInstances"), fStrs("step"),
	)), OneOf: []OneOf{runsOnOrWorkerGroup}},
	// EmrCluster: Appendix D types terminateAfter as Integer, but §3.3 and
	// every example use a Period, as on Ec2Resource; culvert takes Period.
	// The capitalised EbsBlockDeviceConfig and VolumeSpecification fields
	// are kept as Appendix D lists them.
	{Name: "EmrCluster", Kind: KindResource, Fields: mergeFields(resourceFields, fieldList(
		fStrs("additionalMasterSecurityGroupIds"), fStrs("additionalSlaveSecurityGroupIds"), fStr("amiVersion"),
		fStrs("applications"), fStrs("bootstrapAction"), many(fRefType("configuration", "EmrConfiguration")),
		fStr("coreInstanceBidPrice"), fInt("coreInstanceCount"), fStr("coreInstanceType"),
		fRefType("coreEbsConfiguration", "EbsConfiguration"), fRef("coreGroupConfiguration"),
		fRefType("EbsBlockDeviceConfig", "EbsBlockDeviceConfig"),
		fStr("emrManagedMasterSecurityGroupId"), fStr("emrManagedSlaveSecurityGroupId"), fStr("enableDebugging"),
		fEnum("hadoopSchedulerType", "PARALLEL_FAIR_SCHEDULING", "PARALLEL_CAPACITY_SCHEDULING", "DEFAULT_SCHEDULER"),
		fStr("masterInstanceBidPrice"), fStr("masterInstanceType"),
		fRefType("masterEbsConfiguration", "EbsConfiguration"), fRef("masterGroupConfiguration"),
		fStr("releaseLabel"), fStr("serviceAccessSecurityGroupId"), fStrs("supportedProducts"),
		fStr("taskInstanceBidPrice"), fInt("taskInstanceCount"), fStr("taskInstanceType"),
		fRefType("taskEbsConfiguration", "EbsConfiguration"), fRef("taskGroupConfiguration"),
		fRefType("VolumeSpecification", "VolumeSpecification"),
	)), NotAllowed: []string{"runsOn", "workerGroup"}},
	{Name: "EmrConfiguration", Kind: KindOther, Fields: mergeFields(plainFields, fieldList(
		must(fStr("classification")), many(fRefType("configuration", "EmrConfiguration")),
		many(fRefType("property", "Property")),
	))},
	{Name: "Exists", Kind: KindPrecondition, Fields: mergeFields(preconditionFields, fieldList(
		fRef("runsOn", KindResource), fStr("workerGroup"),
	))},
	{Name: "HadoopActivity", Kind: KindActivity, Fields: mergeFields(activityFields, emrStepActivityFields, fieldList(
		fStrs("argument"), fStr("hadoopQueue"), must(fStr("jarUri")), fStr("mainClass"),
	)), OneOf: []OneOf{runsOnOrWorkerGroup}},
	// HiveActivity's second group is printed without "(one of)": culvert
	// reads it as runsOn|workerGroup plus required input and output.
	{Name: "HiveActivity", Kind: KindActivity, Fields: mergeFields(activityFields, emrStepActivityFields, fieldList(
		fStr("hadoopQueue"), fStr("hiveScript"), must(fRefs("input", KindDataNode)),
		must(fRefs("output", KindDataNode)), fStr("scriptUri"), fStrs("scriptVariable"), fBool("stage"),
	)), OneOf: []OneOf{exactlyOne("hiveScript", "scriptUri"), runsOnOrWorkerGroup}},
	{Name: "HiveCopyActivity", Kind: KindActivity, Fields: mergeFields(activityFields, emrStepActivityFields, fieldList(
		fStr("filterSql"),
	)), OneOf: []OneOf{runsOnOrWorkerGroup}},
	{Name: "HttpProxy", Kind: KindOther, Fields: mergeFields(plainFields, fieldList(
		must(fStr("hostname")), fSecret("password"), must(fStr("port")), fBool("s3NoProxy"),
		fStr("username"), fStr("windowsDomain"), fStr("windowsWorkgroup"),
	))},
	{Name: "JdbcDatabase", Kind: KindDatabase, Fields: mergeFields(plainFields, fieldList(
		must(fStr("connectionString")), fStr("databaseName"), must(fStr("jdbcDriverClass")),
		fStr("jdbcDriverJarUri"), fStrs("jdbcProperties"), must(fSecret("password")), must(fStr("username")),
	))},
	{Name: "MySqlDataNode", Kind: KindDataNode, Fields: mergeFields(dataNodeFields, fieldList(
		fStr("createTableSql"), fRef("database", KindDatabase), fStr("insertQuery"), fStr("schemaName"),
		fStr("selectQuery"), must(fStr("table")),
		// Not in Appendix D, but in the page's example.
		fStr("connectionString"), fSecret("password"), fStr("username"),
	))},
	{Name: "PigActivity", Kind: KindActivity, Fields: mergeFields(activityFields, emrStepActivityFields, fieldList(
		fStr("script"), fStr("scriptUri"), fStrs("scriptVariable"), fBool("stage"),
	)), OneOf: []OneOf{exactlyOne("script", "scriptUri"), runsOnOrWorkerGroup}},
	{Name: "Property", Kind: KindOther, Fields: mergeFields(plainFields, fieldList(must(fStr("key")), must(fStr("value"))))},
	{Name: "RdsDatabase", Kind: KindDatabase, Fields: mergeFields(plainFields, fieldList(
		fStr("databaseName"), fStr("jdbcDriverJarUri"), fStrs("jdbcProperties"), must(fSecret("password")),
		must(fStr("rdsInstanceId")), fStr("region"), must(fStr("username")),
	))},
	{Name: "RedshiftCopyActivity", Kind: KindActivity, Fields: mergeFields(activityFields, fieldList(
		fStr("commandOptions"), must(fEnum("insertMode", "KEEP_EXISTING", "OVERWRITE_EXISTING", "TRUNCATE", "APPEND")),
		fStr("queue"), fStr("transformSql"),
	)), OneOf: []OneOf{runsOnOrWorkerGroup}},
	{Name: "RedshiftDataNode", Kind: KindDataNode, Fields: mergeFields(dataNodeFields, fieldList(
		fStr("createTableSql"), must(fRefType("database", "RedshiftDatabase")), fStr("primaryKeys"),
		fStr("schemaName"), must(fStr("tableName")),
	))},
	{Name: "RedshiftDatabase", Kind: KindDatabase, Fields: mergeFields(plainFields, fieldList(
		fStr("clusterId"), fStr("connectionString"), fStr("databaseName"), fStrs("jdbcProperties"),
		must(fSecret("password")), fStr("region"), must(fStr("username")),
	)), OneOf: []OneOf{exactlyOne("clusterId", "connectionString")}},
	{Name: "RegEx", Kind: KindDataFormat, Fields: mergeFields(plainFields, fieldList(
		fStrs("column"), fStr("inputRegEx"), fStr("outputFormat"),
	))},
	// S3DataNode: "You must provide either a filePath or directoryPath
	// value" does not forbid both, so the group is at-least-one.
	{Name: "S3DataNode", Kind: KindDataNode, Fields: mergeFields(dataNodeFields, fieldList(
		fEnum("compression", "none", "gzip"), fRef("dataFormat", KindDataFormat), fStr("directoryPath"),
		fStr("filePath"), fStr("manifestFilePath"), fEnum("s3EncryptionType", "SERVER_SIDE_ENCRYPTION", "NONE"),
	)), OneOf: []OneOf{atLeastOne("directoryPath", "filePath")}},
	{Name: "S3KeyExists", Kind: KindPrecondition, Fields: mergeFields(preconditionFields, fieldList(
		must(fStr("role")), must(fStr("s3Key")),
	))},
	{Name: "S3PrefixNotEmpty", Kind: KindPrecondition, Fields: mergeFields(preconditionFields, fieldList(
		must(fStr("role")), must(fStr("s3Prefix")),
	))},
	{Name: "Schedule", Kind: KindSchedule, Fields: mergeFields(plainFields, fieldList(
		fDateTime("endDateTime"), fInt("occurrences"),
		FieldSpec{Name: "period", Type: TypePeriod, Required: true, Enum: []string{"ONDEMAND_PERIOD"}},
		fEnum("startAt", "FIRST_ACTIVATION_DATE_TIME", "ONDEMAND_ACTIVATION_TIME"),
		FieldSpec{Name: "startDateTime", Type: TypeDateTime, Literal: true},
		sysField(fDateTime("@firstActivationTime")),
	)), OneOf: []OneOf{exactlyOne("startAt", "startDateTime")},
		Conflicts: [][]string{{"endDateTime", "occurrences"}}},
	{Name: "ShellCommandActivity", Kind: KindActivity, Fields: mergeFields(activityFields, fieldList(
		fStr("command"), fStr("scriptUri"), fStrs("scriptArgument"), fBool("stage"), fStr("stderr"), fStr("stdout"),
	)), OneOf: []OneOf{exactlyOne("command", "scriptUri"), runsOnOrWorkerGroup},
		Conflicts: [][]string{{"scriptArgument", "scriptUri"}}},
	// Preconditions have no runsOn or workerGroup in Appendix D, although
	// user-managed ones "only run on the computational resource that you
	// specify using the runsOn or workerGroup fields"; culvert accepts both
	// on ShellCommandPrecondition and Exists.
	{Name: "ShellCommandPrecondition", Kind: KindPrecondition, Fields: mergeFields(preconditionFields, fieldList(
		fStr("command"), fRef("runsOn", KindResource), fStr("scriptUri"), fStrs("scriptArgument"), fStr("stderr"),
		fStr("stdout"), fStr("workerGroup"),
	)), OneOf: []OneOf{exactlyOne("command", "scriptUri")},
		Conflicts: [][]string{{"scriptArgument", "scriptUri"}}},
	{Name: "ShellScriptConfig", Kind: KindOther, Fields: mergeFields(plainFields, fieldList(fStrs("scriptArgument"), fStr("scriptUri")))},
	{Name: "SnsAlarm", Kind: KindAction, Fields: mergeFields(actionFields, fieldList(
		must(fStr("message")), must(fStr("role")), must(fStr("subject")), must(fStr("topicArn")),
	))},
	{Name: "SqlActivity", Kind: KindActivity, Fields: mergeFields(activityFields, fieldList(
		must(fRef("database", KindDatabase)), fStr("queue"), fStr("script"), fStrs("scriptArgument"), fStr("scriptUri"),
	)), OneOf: []OneOf{exactlyOne("script", "scriptUri"), runsOnOrWorkerGroup}},
	{Name: "SqlDataNode", Kind: KindDataNode, Fields: mergeFields(dataNodeFields, fieldList(
		fStr("createTableSql"), fRef("database", KindDatabase), fStr("insertQuery"), fStr("schemaName"),
		fStr("selectQuery"), must(fStr("table")),
	))},
	{Name: "TSV", Kind: KindDataFormat, Fields: mergeFields(plainFields, fieldList(
		fStrs("column"), fStr("columnSeparator"), fStr("escapeChar"), fStr("recordSeparator"),
	))},
	{Name: "Terminate", Kind: KindAction, Fields: actionFields},
	{Name: "VolumeSpecification", Kind: KindOther, Fields: mergeFields(plainFields, fieldList(
		fInt("iops"), fInt("sizeInGB"), fStr("volumeType"),
	))},
}
